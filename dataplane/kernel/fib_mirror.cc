#include "dataplane/kernel/fib_mirror.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace vigil::dp {

std::vector<KernelRoute> mirror_routes(const std::vector<Route>& routes,
                                       const std::vector<net::Prefix>& connected,
                                       const std::vector<int>& ifindex_of) {
  const std::set<net::Prefix> kernels_own(connected.begin(), connected.end());
  std::vector<KernelRoute> out;
  for (const Route& r : routes) {
    if (kernels_own.contains(r.prefix)) {
      continue;
    }
    KernelRoute k{.prefix = r.prefix};
    if (r.target.action == RouteAction::kBlackhole) {
      k.blackhole = true;
    } else if (r.target.action == RouteAction::kForward) {
      for (const NextHop& m : r.target.members) {
        const int ifindex = m.port < ifindex_of.size() ? ifindex_of[m.port] : 0;
        if (ifindex != 0) {
          k.next_hops.push_back({.ifindex = ifindex, .gateway = m.gateway, .weight = m.weight});
        }
      }
      if (k.next_hops.empty()) {
        continue;
      }
      std::sort(k.next_hops.begin(), k.next_hops.end());
    } else {
      continue;  // local (the kernel's own) or nothing
    }
    out.push_back(std::move(k));
  }
  return out;
}

Status FibMirror::sync(const std::vector<KernelRoute>& wanted) {
  if (!installed_) {
    auto present = table_.list_own();
    if (!present) {
      return fail(present.error());
    }
    installed_.emplace();
    for (const auto& p : *present) {
      installed_->emplace(p, std::nullopt);
    }
  }
  std::string first_error;
  size_t failures = 0;
  auto failed = [&](const Status& st) {
    if (failures++ == 0) {
      first_error = st.error();
    }
  };
  std::set<net::Prefix> keep;
  for (const KernelRoute& route : wanted) {
    keep.insert(route.prefix);
    auto at = installed_->find(route.prefix);
    if (at != installed_->end() && at->second == route) {
      continue;
    }
    if (Status ok = table_.replace(route); !ok) {
      // Whatever the kernel has now is not what is wanted: unknown, replaced next time.
      (*installed_)[route.prefix] = std::nullopt;
      failed(ok);
      continue;
    }
    (*installed_)[route.prefix] = route;
  }
  for (auto it = installed_->begin(); it != installed_->end();) {
    if (keep.contains(it->first)) {
      ++it;
      continue;
    }
    if (Status ok = table_.remove(it->first); !ok) {
      failed(ok);
      ++it;
      continue;
    }
    it = installed_->erase(it);
  }
  if (failures > 0) {
    return fail(first_error +
                (failures > 1 ? " (and " + std::to_string(failures - 1) + " more)" : ""));
  }
  return Ok{};
}

Status FibMirror::recheck() {
  if (!installed_) {
    return Ok{};
  }
  auto present = table_.list_own();
  if (!present) {
    return fail(present.error());
  }
  const std::set<net::Prefix> there(present->begin(), present->end());
  for (auto it = installed_->begin(); it != installed_->end();) {
    it = there.contains(it->first) ? std::next(it) : installed_->erase(it);
  }
  for (const auto& p : there) {
    installed_->try_emplace(p, std::nullopt);  // someone else's copy: replaced or swept
  }
  return Ok{};
}

Status FibMirror::clear() {
  return sync({});
}

}  // namespace vigil::dp

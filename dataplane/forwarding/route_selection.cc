#include "dataplane/forwarding/route_selection.h"

#include <utility>

namespace vigil::dp {
namespace {

Route bgp_route(const net::Prefix& prefix, const NextHopGroup& target) {
  return {
      .prefix = prefix, .target = target, .source = RouteSource::kBgp, .distance = kBgpDistance};
}

}  // namespace

void RouteSelection::set_mesh(const std::vector<net::Prefix>& prefixes) {
  mesh_.clear();
  for (const net::Prefix& p : prefixes) {
    mesh_[p.length].insert(p.network());
  }
}

bool RouteSelection::inside_mesh(const net::Prefix& prefix) const {
  for (const auto& [length, networks] : mesh_) {
    if (length > prefix.length) {
      break;
    }
    if (networks.contains(net::Prefix{prefix.address, length}.network())) {
      return true;
    }
  }
  return false;
}

void RouteSelection::account(Verdict v, int delta) {
  size_t* counter = v == Verdict::kSelected     ? &bgp_selected_
                    : v == Verdict::kNoRoom     ? &bgp_over_capacity_
                    : v == Verdict::kInsideMesh ? &bgp_inside_mesh_
                                                : nullptr;
  if (counter != nullptr) {
    *counter = delta > 0 ? *counter + 1 : *counter - 1;
  }
}

RouteSelection::Verdict RouteSelection::judge(
    const net::Prefix& prefix, std::map<net::Prefix, Route>::const_iterator config) const {
  const bool has_config = config != config_.end();
  if (has_config && config->second.distance <= kBgpDistance) {
    return Verdict::kConfigWins;
  }
  if (!mesh_.empty() && inside_mesh(prefix)) {
    return Verdict::kInsideMesh;
  }
  // Over a config route of its prefix BGP takes no more room; a new prefix needs some.
  const size_t used = prefix.address.family == 4 ? count_[0] : count_[1];
  if (!has_config && used >= capacity(prefix)) {
    return Verdict::kNoRoom;
  }
  return Verdict::kSelected;
}

std::vector<Route> RouteSelection::set_config(std::vector<Route> routes) {
  config_.clear();
  count_[0] = count_[1] = 0;
  for (Route& r : routes) {
    const net::Prefix prefix = r.prefix;
    if (config_.insert_or_assign(prefix, std::move(r)).second) {
      ++count(prefix);
    }
  }
  bgp_selected_ = bgp_over_capacity_ = bgp_inside_mesh_ = 0;
  // The config's routes took their room first; BGP's in prefix order after them.
  for (auto& [prefix, held] : bgp_) {
    const auto config = config_.find(prefix);
    held.verdict = judge(prefix, config);
    account(held.verdict, +1);
    if (held.verdict == Verdict::kSelected && config == config_.end()) {
      ++count(prefix);
    }
  }
  std::vector<Route> fib;
  fib.reserve(config_.size() + bgp_selected_);
  // Both maps in prefix order: one merge pass.
  auto c = config_.begin();
  auto b = bgp_.begin();
  while (c != config_.end() || b != bgp_.end()) {
    if (b == bgp_.end() || (c != config_.end() && c->first < b->first)) {
      fib.push_back(c->second);
      ++c;
      continue;
    }
    const bool same = c != config_.end() && c->first == b->first;
    if (b->second.verdict == Verdict::kSelected) {
      fib.push_back(bgp_route(b->first, b->second.target));
    } else if (same) {
      fib.push_back(c->second);
    }
    if (same) {
      ++c;
    }
    ++b;
  }
  return fib;
}

std::optional<RouteUpdate> RouteSelection::set_bgp(const net::Prefix& prefix,
                                                   std::optional<NextHopGroup> target) {
  // One lookup in each map: this runs for every route zebra sends.
  const auto config = config_.find(prefix);
  const auto at = bgp_.lower_bound(prefix);  // where it is, or goes
  const bool found = at != bgp_.end() && at->first == prefix;
  const bool was_selected = found && at->second.verdict == Verdict::kSelected;
  // The FIB's entry for the prefix when BGP's route is not (or no longer) selected.
  auto fallback = [&]() -> std::optional<RouteUpdate> {
    if (config == config_.end()) {
      --count(prefix);
      return RouteUpdate{.prefix = prefix};
    }
    return RouteUpdate{.prefix = prefix, .target = config->second.target};
  };
  if (!target) {
    if (!found) {
      return std::nullopt;
    }
    account(at->second.verdict, -1);
    bgp_.erase(at);
    if (!was_selected) {
      return std::nullopt;  // the config's route stays, or there was none
    }
    return fallback();
  }
  if (found && at->second.target == *target) {
    return std::nullopt;  // the same next hops again (zebra resends on every replay)
  }
  if (was_selected) {
    at->second.target = *target;
    return RouteUpdate{.prefix = prefix, .target = std::move(target)};
  }
  // New, or held without being selected: judged now (room may have come).
  const Verdict v = judge(prefix, config);
  if (found) {
    account(at->second.verdict, -1);
    at->second = Held{.target = *target, .verdict = v};
  } else {
    bgp_.emplace_hint(at, prefix, Held{.target = *target, .verdict = v});
  }
  account(v, +1);
  if (v != Verdict::kSelected) {
    return std::nullopt;
  }
  if (config == config_.end()) {
    ++count(prefix);
  }
  return RouteUpdate{.prefix = prefix, .target = std::move(target)};
}

std::vector<RouteUpdate> RouteSelection::clear_bgp() {
  std::vector<RouteUpdate> updates;
  std::vector<net::Prefix> prefixes;
  prefixes.reserve(bgp_.size());
  for (const auto& [prefix, held] : bgp_) {
    prefixes.push_back(prefix);
  }
  for (const net::Prefix& prefix : prefixes) {
    if (auto u = set_bgp(prefix, std::nullopt)) {
      updates.push_back(std::move(*u));
    }
  }
  return updates;
}

std::optional<RouteSource> RouteSelection::selected_source(const net::Prefix& prefix) const {
  if (const auto b = bgp_.find(prefix);
      b != bgp_.end() && b->second.verdict == Verdict::kSelected) {
    return RouteSource::kBgp;
  }
  const auto config = config_.find(prefix);
  if (config == config_.end()) {
    return std::nullopt;
  }
  return config->second.source;
}

}  // namespace vigil::dp

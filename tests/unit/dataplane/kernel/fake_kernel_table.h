// The kernel's routing table as FibMirror and MeshKernelPath see it (KernelRouteTable), for
// their tests: what it holds, what it was asked, refusals on demand.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/kernel/kernel_route.h"

namespace vigil::dp {

// The kernel's table as the mirror sees it, with what it was asked to do, and refusals on
// demand.
class FakeKernelTable final : public KernelRouteTable {
 public:
  Expected<std::vector<net::Prefix>> list_own() override {
    ++lists;
    if (!list_error.empty()) {
      return fail(list_error);
    }
    std::vector<net::Prefix> out;
    for (const auto& [p, r] : routes) {
      out.push_back(p);
    }
    return out;
  }
  Status replace(const KernelRoute& route) override {
    ++replaces;
    if (refused.contains(route.prefix)) {
      return fail("cannot install the kernel route " + route.prefix.to_string() +
                  ": Network is unreachable");
    }
    routes[route.prefix] = route;
    return Ok{};
  }
  Status remove(const net::Prefix& p) override {
    ++removes;
    routes.erase(p);
    return Ok{};
  }

  std::map<net::Prefix, KernelRoute> routes;
  std::set<net::Prefix> refused;
  std::string list_error;
  int lists = 0, replaces = 0, removes = 0;
};

}  // namespace vigil::dp

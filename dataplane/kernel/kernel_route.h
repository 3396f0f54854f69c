// A route as vigil-dp gives it to the kernel's routing table (the FIB mirror: fib_mirror.h),
// and the table as the mirror sees it: an interface, so the mirror's logic is tested without
// a kernel (tests/unit/dataplane/kernel/) and kernel_routes.h is the one netlink side.
#pragma once

#include <compare>
#include <optional>
#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"

namespace vigil::dp {

struct KernelNextHop {
  int ifindex = 0;
  std::optional<net::IpAddress> gateway;  // none: the destination is on the link
  uint32_t weight = 1;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const KernelNextHop&) const = default;
};

struct KernelRoute {
  net::Prefix prefix;
  bool blackhole = false;
  std::vector<KernelNextHop> next_hops;  // sorted; empty for a blackhole
  // The source the kernel gives what it sends by this route (none: its own choice).
  std::optional<net::IpAddress> preferred_source;
  bool operator==(const KernelRoute&) const = default;
};

// The part of the kernel's main routing table that vigil-dp owns: routes of its protocol.
class KernelRouteTable {
 public:
  virtual ~KernelRouteTable() = default;
  // The prefixes of the routes of vigil-dp's protocol, whoever installed them (an earlier
  // vigil-dp included).
  virtual Expected<std::vector<net::Prefix>> list_own() = 0;
  // Installs `route`, or replaces vigil-dp's route to its prefix (one system call: the
  // kernel never has a moment without the route).
  virtual Status replace(const KernelRoute& route) = 0;
  // Removes vigil-dp's route to `prefix`, every next hop of it.
  virtual Status remove(const net::Prefix& prefix) = 0;
};

}  // namespace vigil::dp

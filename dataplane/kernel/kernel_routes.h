// The kernel's main routing table over rtnetlink, for the FIB mirror: vigil-dp's routes carry
// their own protocol number (kVigilRouteProtocol, "vigil" in iproute2's rt_protos) and metric,
// so they are told apart from the kernel's connected routes and from anyone else's, and a new
// vigil-dp finds what an earlier one left (mark and sweep).
#pragma once

#include "dataplane/kernel/kernel_route.h"
#include "dataplane/kernel/netlink_socket.h"

namespace vigil::dp {

// Unassigned in iproute2's rt_protos and FRR's list (FRR uses 186-198).
inline constexpr uint8_t kVigilRouteProtocol = 250;
// Not 0, so a replace never clobbers a route someone added by hand without a metric (IPv4's
// default: that route stays, and is preferred); below what DHCP clients and network managers
// use (100 and up, IPv6's default 1024), so the mirror wins over those.
inline constexpr uint32_t kVigilRouteMetric = 10;

class NetlinkRouteTable final : public KernelRouteTable {
 public:
  static Expected<NetlinkRouteTable> open();

  Expected<std::vector<net::Prefix>> list_own() override;
  Status replace(const KernelRoute& route) override;
  Status remove(const net::Prefix& prefix) override;

 private:
  explicit NetlinkRouteTable(NetlinkSocket socket) : socket_(std::move(socket)) {}
  NetlinkSocket socket_;
};

}  // namespace vigil::dp

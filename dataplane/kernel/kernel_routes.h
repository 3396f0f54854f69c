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
// The routes over the mesh's kernel device (mesh_kernel_path.h): a protocol of their own, as
// they are swept apart from the mirror's, and a metric below the mirror's blackholes for the
// same prefixes, which they win over while vigil-dp runs.
inline constexpr uint8_t kVigilMeshRouteProtocol = 251;
inline constexpr uint32_t kVigilMeshRouteMetric = 5;
// Not 0, so a replace never clobbers a route someone added by hand without a metric (IPv4's
// default: that route stays, and is preferred); below what DHCP clients and network managers
// use (100 and up, IPv6's default 1024), so the mirror wins over those.
inline constexpr uint32_t kVigilRouteMetric = 10;

class NetlinkRouteTable final : public KernelRouteTable {
 public:
  // The routes of `protocol`, each installed with `metric`.
  static Expected<NetlinkRouteTable> open(uint8_t protocol = kVigilRouteProtocol,
                                          uint32_t metric = kVigilRouteMetric);

  Expected<std::vector<net::Prefix>> list_own() override;
  Status replace(const KernelRoute& route) override;
  Status remove(const net::Prefix& prefix) override;

 private:
  NetlinkRouteTable(NetlinkSocket socket, uint8_t protocol, uint32_t metric)
      : socket_(std::move(socket)), protocol_(protocol), metric_(metric) {}
  NetlinkSocket socket_;
  uint8_t protocol_;
  uint32_t metric_;
};

}  // namespace vigil::dp

// The kernel's neighbour table (ARP and ND) over rtnetlink, for the fast path's next hops:
// the kernel owns the interfaces (AF_XDP ports, or the TAPs of dpdk-mode ports), answers and
// sends ARP/ND, so vigil-dp asks it to resolve (RTM_NEWNEIGH with NTF_USE, as if the kernel
// had a packet to send) and reads what it learned. One ARP stack, the kernel's timers and
// probes.
#pragma once

#include <array>
#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"
#include "dataplane/kernel/netlink_socket.h"

namespace vigil::dp {

struct KernelNeighbour {
  int ifindex = 0;
  net::IpAddress address;
  std::array<uint8_t, 6> mac{};
  bool operator==(const KernelNeighbour&) const = default;
};

class KernelNeighbours {
 public:
  static Expected<KernelNeighbours> open();

  // Starts resolution of `address` on `ifindex`; the answer shows in a later dump().
  Status resolve(int ifindex, const net::IpAddress& address);
  // Entries with a usable link-layer address: reachable, stale, delay, probe or permanent.
  Expected<std::vector<KernelNeighbour>> dump();

 private:
  explicit KernelNeighbours(NetlinkSocket socket) : socket_(std::move(socket)) {}
  NetlinkSocket socket_;
};

}  // namespace vigil::dp

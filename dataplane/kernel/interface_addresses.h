// A kernel interface's state as vigil-dp sets it for the TAP that stands for a dpdk-mode port
// (the kernel's view of that port: the box's addresses live there, the kernel answers ARP,
// ping and SSH through it): up, with the port's MTU and exactly the configured addresses.
#pragma once

#include <vector>

#include "common/expected.h"
#include "common/net/ip.h"
#include "dataplane/kernel/netlink_socket.h"

namespace vigil::dp {

class InterfaceAddresses {
 public:
  static Expected<InterfaceAddresses> open();

  // `no_arp`: a point-to-point device inside the box, whose frames the kernel addresses to
  // the device itself instead of resolving neighbours.
  Status set_up(int ifindex, uint32_t mtu, bool no_arp = false);
  // Adds the missing addresses and removes the others; IPv6 link-local ones are the kernel's
  // and stay.
  Status sync(int ifindex, const std::vector<net::Prefix>& wanted);
  Expected<std::vector<net::Prefix>> list(int ifindex);

 private:
  explicit InterfaceAddresses(NetlinkSocket socket) : socket_(std::move(socket)) {}
  Status change(uint16_t type, int ifindex, const net::Prefix& prefix);
  NetlinkSocket socket_;
};

}  // namespace vigil::dp

// What the kernel says a device can do with XDP frames (the "netdev" generic netlink family,
// Linux 6.3+). vigil-dp asks whether a port can transmit frames redirected to it from another
// device's XDP program (NETDEV_XDP_ACT_NDO_XMIT) before it lets the classifier forward flows
// out of it: the kernel drops such frames silently where it cannot. A veth can only when its
// peer has an XDP program or GRO on (it needs the peer's NAPI); most NIC drivers always can.
#pragma once

#include <cstdint>
#include <optional>

#include "common/expected.h"
#include "dataplane/kernel/netlink_socket.h"

namespace vigil::dp {

inline constexpr uint64_t kXdpActNdoXmit = 4;  // NETDEV_XDP_ACT_NDO_XMIT, <linux/netdev.h>

class XdpFeatures {
 public:
  // Fails when the kernel has no "netdev" family (before 6.3): nothing can be known.
  static Expected<XdpFeatures> open();
  // The device's NETDEV_XDP_ACT_* bits.
  Expected<uint64_t> of(uint32_t ifindex);

 private:
  XdpFeatures(NetlinkSocket socket, uint16_t family)
      : socket_(std::move(socket)), family_(family) {}
  NetlinkSocket socket_;
  uint16_t family_;
};

}  // namespace vigil::dp

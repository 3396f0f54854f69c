// What the forwarding stages need to know about a port: its MAC (source of what it sends),
// its IP MTU and the box's own addresses on it (the source of ICMP errors it sends).
#pragma once

#include <rte_ether.h>

#include <cstdint>

namespace vigil::dp {

struct PortInfo {
  rte_ether_addr mac{};
  uint16_t mtu = 1500;
  bool has_v4 = false, has_v6 = false;
  uint8_t v4[4] = {};  // network order
  uint8_t v6[16] = {};
};

}  // namespace vigil::dp

// What the forwarding stages need to know about a port: its MAC (source of what it sends and
// the destination of what it may route), its IP MTU, the box's own addresses on it (the
// source of ICMP errors it sends) and what its config lets in that a router would otherwise
// refuse.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <vector>

namespace vigil::dp {

struct PortInfo {
  rte_ether_addr mac{};
  uint16_t mtu = 1500;
  bool has_v4 = false, has_v6 = false;
  uint8_t v4[4] = {};  // network order
  uint8_t v6[16] = {};
  uint32_t allow_martians = 0;  // VIGIL_ALLOW_* (vigil/martian.h)
  std::vector<uint16_t> vlans;  // configured VLAN ids, sorted: their frames are the kernel's
  // The mesh's kernel device: what arrives on it is the box's own traffic to other sites,
  // admitted only from the box's addresses and never handed back to the kernel.
  bool from_kernel = false;
};

}  // namespace vigil::dp

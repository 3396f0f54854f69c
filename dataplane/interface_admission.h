// What an interface's config lets in, as both the classifier's and the fast path's adapters
// need it: the martian ranges it allows (interfaces.<name>.allow_martians) as the VIGIL_ALLOW_*
// bits of vigil/martian.h, and the VLAN ids of its sub-interfaces (frames tagged otherwise
// are dropped as unknown_vlan).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "config/config.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/martian.h"
#pragma GCC diagnostic pop

namespace vigil::dp {

inline uint32_t allowed_martians(const config::InterfaceConfig& interface) {
  uint32_t bits = 0;
  for (const config::MartianRange r : interface.allow_martians) {
    switch (r) {
      case config::MartianRange::kThisNetwork:
        bits |= VIGIL_ALLOW_THIS_NETWORK;
        break;
      case config::MartianRange::kLoopback:
        bits |= VIGIL_ALLOW_LOOPBACK;
        break;
      case config::MartianRange::kReserved:
        bits |= VIGIL_ALLOW_RESERVED;
        break;
      case config::MartianRange::kLinkLocal:
        bits |= VIGIL_ALLOW_LINK_LOCAL;
        break;
      case config::MartianRange::kIpv4Mapped:
        bits |= VIGIL_ALLOW_IPV4_MAPPED;
        break;
    }
  }
  return bits;
}

// Sorted.
inline std::vector<uint16_t> vlan_ids(const config::InterfaceConfig& interface) {
  std::vector<uint16_t> ids;
  ids.reserve(interface.vlans.size());
  for (const auto& v : interface.vlans) {
    ids.push_back(v.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace vigil::dp

// The martian ranges an interface's config allows (interfaces.<name>.allow_martians) as the
// VIGIL_ALLOW_* bits the classifier and the fast path both read (vigil/martian.h).
#pragma once

#include <cstdint>
#include <vector>

#include "config/config.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/martian.h"
#pragma GCC diagnostic pop

namespace vigil::dp {

inline uint32_t allowed_martians(const std::vector<config::MartianRange>& ranges) {
  uint32_t bits = 0;
  for (const config::MartianRange r : ranges) {
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

}  // namespace vigil::dp

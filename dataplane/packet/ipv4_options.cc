#include "dataplane/packet/ipv4_options.h"

#include <cstring>
#include <ctime>

namespace vigil::dp {
namespace {

constexpr uint8_t kEnd = 0;
constexpr uint8_t kNop = 1;
constexpr uint8_t kRecordRoute = 7;
constexpr uint8_t kTimestamp = 68;
constexpr uint8_t kLooseSourceRoute = 131;
constexpr uint8_t kStrictSourceRoute = 137;

// Timestamp flags (RFC 791): timestamps only, each with an address, prespecified addresses.
constexpr uint8_t kTsOnly = 0;
constexpr uint8_t kTsAndAddress = 1;
constexpr uint8_t kTsPrespecified = 3;

Ipv4OptionsCheck problem(size_t at) {
  return {.verdict = Ipv4OptionsCheck::Verdict::kParameterProblem,
          .pointer = static_cast<uint8_t>(at)};
}

}  // namespace

Ipv4OptionsCheck check_ipv4_options(const uint8_t* header, size_t length) {
  bool route_recorded = false, timestamped = false, source_routed = false;
  size_t at = 20;
  while (at < length) {
    const uint8_t type = header[at];
    if (type == kEnd) {
      break;
    }
    if (type == kNop) {
      ++at;
      continue;
    }
    // Every other option has a length octet that covers the type and itself and stays within
    // the header.
    const size_t left = length - at;
    if (left < 2 || header[at + 1] < 2 || header[at + 1] > left) {
      return problem(at);
    }
    const uint8_t option_length = header[at + 1];
    const uint8_t pointer = option_length >= 3 ? header[at + 2] : 0;
    switch (type) {
      case kLooseSourceRoute:
      case kStrictSourceRoute:
        if (option_length < 3) {
          return problem(at + 1);
        }
        if (pointer < 4) {
          return problem(at + 2);
        }
        if (source_routed) {
          return problem(at);  // RFC 1812 5.2.4.1: one source route at most
        }
        source_routed = true;
        break;
      case kRecordRoute:
        if (option_length < 3) {
          return problem(at + 1);
        }
        if (pointer < 4) {
          return problem(at + 2);
        }
        // The pointer names the next free slot, or points past the end when the route is full.
        if (pointer <= option_length && pointer + 3 > option_length) {
          return problem(at + 2);
        }
        if (route_recorded) {
          return problem(at);
        }
        route_recorded = true;
        break;
      case kTimestamp: {
        if (timestamped) {
          return problem(at);
        }
        if (option_length < 4) {
          return problem(at + 1);
        }
        if (pointer < 5) {
          return problem(at + 2);
        }
        const uint8_t flags = header[at + 3] & 0x0f;
        if (pointer <= option_length) {
          const size_t slot = flags == kTsOnly ? 4 : 8;
          if (flags != kTsOnly && flags != kTsAndAddress && flags != kTsPrespecified) {
            return problem(at + 3);
          }
          if (pointer + slot - 1 > option_length) {
            return problem(at + 2);
          }
        } else if ((header[at + 3] & 0xf0) == 0xf0) {
          return problem(at + 3);  // full, and its overflow count would overflow too
        }
        timestamped = true;
        break;
      }
      default:
        break;  // others (router alert, security, ...) are carried as they are
    }
    at += option_length;
  }
  if (source_routed) {
    return {.verdict = Ipv4OptionsCheck::Verdict::kSourceRoute};
  }
  return {};
}

uint32_t ms_since_midnight_ut() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint32_t>((now.tv_sec % 86400) * 1000 + now.tv_nsec / 1000000);
}

bool fill_ipv4_options(uint8_t* header, size_t length, const Ipv4OptionsEntry& entry) {
  const uint8_t stamp[4] = {
      static_cast<uint8_t>(entry.timestamp >> 24), static_cast<uint8_t>(entry.timestamp >> 16),
      static_cast<uint8_t>(entry.timestamp >> 8), static_cast<uint8_t>(entry.timestamp)};
  bool changed = false;
  size_t at = 20;
  while (at + 1 < length) {
    const uint8_t type = header[at];
    if (type == kEnd) {
      break;
    }
    if (type == kNop) {
      ++at;
      continue;
    }
    const uint8_t option_length = header[at + 1];
    if (option_length < 2 || at + option_length > length) {
      break;  // check_ipv4_options() refused this header: never here
    }
    uint8_t* option = header + at;
    if (type == kRecordRoute && option_length >= 3 && entry.egress_address != nullptr) {
      const uint8_t pointer = option[2];
      if (pointer >= 4 && pointer + 3 <= option_length) {
        std::memcpy(option + pointer - 1, entry.egress_address, 4);
        option[2] = static_cast<uint8_t>(pointer + 4);
        changed = true;
      }
    } else if (type == kTimestamp && option_length >= 4) {
      const uint8_t pointer = option[2];
      const uint8_t flags = option[3] & 0x0f;
      if (pointer > option_length) {
        // Full: count the router that could not write, in the overflow nibble.
        if ((option[3] & 0xf0) != 0xf0) {
          option[3] = static_cast<uint8_t>(option[3] + 0x10);
          changed = true;
        }
      } else if (flags == kTsOnly && pointer >= 5 && pointer + 3 <= option_length) {
        std::memcpy(option + pointer - 1, stamp, 4);
        option[2] = static_cast<uint8_t>(pointer + 4);
        changed = true;
      } else if (flags == kTsAndAddress && pointer >= 5 && pointer + 7 <= option_length &&
                 entry.ingress_address != nullptr) {
        std::memcpy(option + pointer - 1, entry.ingress_address, 4);
        std::memcpy(option + pointer + 3, stamp, 4);
        option[2] = static_cast<uint8_t>(pointer + 8);
        changed = true;
      } else if (flags == kTsPrespecified && pointer >= 5 && pointer + 7 <= option_length &&
                 entry.is_ours && entry.is_ours(option + pointer - 1)) {
        std::memcpy(option + pointer + 3, stamp, 4);
        option[2] = static_cast<uint8_t>(pointer + 8);
        changed = true;
      }
    }
    at += option_length;
  }
  return changed;
}

}  // namespace vigil::dp

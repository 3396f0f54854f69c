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

// Walks the options after the 20-byte header, in order: NOPs are skipped, END stops the walk,
// and `visit(at, type, option_length)` sees every other option (false stops the walk). Returns
// the offset of the first option whose length octet is missing or wrong (below 2, or past the
// header's end), the error ip_options_compile() reports there; 0 when there is none.
template <typename Visit>
size_t walk_options(const uint8_t* header, size_t length, Visit visit) {
  size_t at = 20;
  while (at < length) {
    const uint8_t type = header[at];
    if (type == kEnd) {
      return 0;
    }
    if (type == kNop) {
      ++at;
      continue;
    }
    const size_t left = length - at;
    if (left < 2 || header[at + 1] < 2 || header[at + 1] > left) {
      return at;
    }
    if (!visit(at, type, header[at + 1])) {
      return 0;
    }
    at += header[at + 1];
  }
  return 0;
}

// What ip_options_compile() says of one option of a received packet: 0, or the octet in error.
struct Seen {
  bool route_recorded = false, timestamped = false, source_routed = false;
};
size_t option_error(const uint8_t* header, size_t at, uint8_t type, uint8_t option_length,
                    Seen& seen) {
  const uint8_t pointer = option_length >= 3 ? header[at + 2] : 0;
  switch (type) {
    case kLooseSourceRoute:
    case kStrictSourceRoute:
      if (option_length < 3) {
        return at + 1;
      }
      if (pointer < 4) {
        return at + 2;
      }
      if (seen.source_routed) {
        return at;  // RFC 1812 5.2.4.1: one source route at most
      }
      seen.source_routed = true;
      return 0;
    case kRecordRoute:
      if (option_length < 3) {
        return at + 1;
      }
      // The pointer names the next free slot, or points past the end when the route is full.
      if (pointer < 4 || (pointer <= option_length && pointer + 3 > option_length)) {
        return at + 2;
      }
      if (seen.route_recorded) {
        return at;
      }
      seen.route_recorded = true;
      return 0;
    case kTimestamp: {
      if (seen.timestamped) {
        return at;
      }
      if (option_length < 4) {
        return at + 1;
      }
      if (pointer < 5) {
        return at + 2;
      }
      const uint8_t flags = header[at + 3] & 0x0f;
      if (pointer <= option_length) {
        if (flags != kTsOnly && flags != kTsAndAddress && flags != kTsPrespecified) {
          return at + 3;
        }
        const size_t slot = flags == kTsOnly ? 4 : 8;
        if (pointer + slot - 1 > option_length) {
          return at + 2;
        }
      } else if ((header[at + 3] & 0xf0) == 0xf0) {
        return at + 3;  // full, and its overflow count would overflow too
      }
      seen.timestamped = true;
      return 0;
    }
    default:
      return 0;  // others (router alert, security, ...) are carried as they are
  }
}

// The router's entry in one record route or timestamp option; whether it wrote one.
bool fill_option(uint8_t* option, uint8_t type, uint8_t option_length, const uint8_t* stamp,
                 const Ipv4OptionsEntry& entry) {
  const uint8_t pointer = option_length >= 3 ? option[2] : 0;
  if (type == kRecordRoute && entry.egress_address != nullptr && pointer >= 4 &&
      pointer + 3 <= option_length) {
    std::memcpy(option + pointer - 1, entry.egress_address, 4);
    option[2] = static_cast<uint8_t>(pointer + 4);
    return true;
  }
  if (type != kTimestamp || option_length < 4 || pointer < 5) {
    return false;
  }
  const uint8_t flags = option[3] & 0x0f;
  if (pointer > option_length) {
    // Full: count the router that could not write, in the overflow nibble.
    if ((option[3] & 0xf0) == 0xf0) {
      return false;
    }
    option[3] = static_cast<uint8_t>(option[3] + 0x10);
    return true;
  }
  if (flags == kTsOnly && pointer + 3 <= option_length) {
    std::memcpy(option + pointer - 1, stamp, 4);
    option[2] = static_cast<uint8_t>(pointer + 4);
    return true;
  }
  if (pointer + 7 > option_length) {
    return false;
  }
  if (flags == kTsAndAddress && entry.ingress_address != nullptr) {
    std::memcpy(option + pointer - 1, entry.ingress_address, 4);
  } else if (!(flags == kTsPrespecified && entry.is_ours && entry.is_ours(option + pointer - 1))) {
    return false;
  }
  std::memcpy(option + pointer + 3, stamp, 4);
  option[2] = static_cast<uint8_t>(pointer + 8);
  return true;
}

}  // namespace

Ipv4OptionsCheck check_ipv4_options(const uint8_t* header, size_t length) {
  Seen seen;
  size_t error = 0;
  const size_t malformed =
      walk_options(header, length, [&](size_t at, uint8_t type, uint8_t option_length) {
        error = option_error(header, at, type, option_length, seen);
        return error == 0;
      });
  if (malformed != 0 || error != 0) {
    return problem(malformed != 0 ? malformed : error);
  }
  if (seen.source_routed) {
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
  walk_options(header, length, [&](size_t at, uint8_t type, uint8_t option_length) {
    changed = fill_option(header + at, type, option_length, stamp, entry) || changed;
    return true;
  });
  return changed;
}

}  // namespace vigil::dp

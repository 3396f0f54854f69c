// A path probe between two Vigil sites: carried inside a WireGuard transport message in place
// of the inner IP packet (so the tunnel authenticates it), on the path it measures. Its first
// byte has a high nibble of 0, which no IP packet has, so the receiver tells it from traffic by
// one byte. Each side sends its own every interval on each path and echoes the last one it got
// from the other on that path; from those both ends get the round trip time (no clock
// agreement needed: each side subtracts the other's holding time measured on the other's
// clock), the jitter of what arrives, and the loss each way (the sequence numbers it sees,
// and the count the other says it received).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vigil::paths {

inline constexpr uint8_t kProbeType = 0x01;  // version 0 of the IP header's nibble: not IP
inline constexpr size_t kProbeSize = 40;

struct ProbeMessage {
  uint8_t link = 0;              // the sender's WAN link (its index), for show and logs
  uint32_t sequence = 0;         // per path, from 1
  int64_t sent_ns = 0;           // the sender's clock
  uint32_t echo_sequence = 0;    // the last probe the sender received on this path (0: none yet)
  int64_t echo_sent_ns = 0;      // its sent_ns (the receiver's own clock, when it sent it)
  int64_t echo_received_ns = 0;  // when the sender received it (the sender's clock)
  uint32_t received = 0;         // probes received on this path from the receiver so far

  bool operator==(const ProbeMessage&) const = default;
};

// kProbeSize bytes into `out`.
void encode(const ProbeMessage& m, std::span<uint8_t, kProbeSize> out);
// kProbeSize bytes of the current type with zero reserved bytes, followed by at most the
// tunnel's padding (fewer than 16 bytes), or nothing.
std::optional<ProbeMessage> decode(std::span<const uint8_t> in);
// Whether an inner packet is a probe (to the probe stage) rather than IP (to the FIB).
inline bool is_probe(std::span<const uint8_t> inner) {
  return !inner.empty() && inner[0] == kProbeType;
}

}  // namespace vigil::paths

// A path probe between two Vigil sites: carried inside a WireGuard transport message in place
// of the inner IP packet (so the tunnel authenticates it), on the path it measures. Its first
// byte has a high nibble of 0, which no IP packet has, so the receiver tells it from traffic by
// one byte. Each side sends its own every interval on each path and echoes the last one it got
// from the other on that path; from those both ends get the round trip time (no clock
// agreement needed: each side subtracts the other's holding time measured on the other's
// clock), the jitter each way (what it measures of what arrives, and what the other says it
// measures), and the loss each way (the sequence numbers it sees, and the count the other says
// it received). An epoch, drawn when a side starts measuring the path, says when the other
// started again (a restart): its sequence numbers and counts start again too. Each side says
// its interval, so a peer probing more slowly is not taken for a lossy one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vigil::paths {

inline constexpr uint8_t kProbeType = 0x01;  // version 0 of the IP header's nibble: not IP
// A multiple of the tunnel's 16-byte padding: sealed as it is.
inline constexpr size_t kProbeSize = 48;

struct ProbeMessage {
  uint8_t link = 0;              // the sender's WAN link (its index), for show and logs
  uint16_t interval_ms = 10;     // how often the sender probes this path (1 or more)
  uint32_t epoch = 1;            // the sender's measurement of this path (not 0)
  uint32_t sequence = 0;         // per path and epoch, from 1
  int64_t sent_ns = 0;           // the sender's clock
  uint32_t echo_sequence = 0;    // the last probe the sender received on this path (0: none yet)
  int64_t echo_sent_ns = 0;      // its sent_ns (the receiver's own clock, when it sent it)
  int64_t echo_received_ns = 0;  // when the sender received it (the sender's clock)
  uint32_t received = 0;         // probes received on this path from the receiver so far
  uint32_t jitter_us = 0;        // the jitter the sender measures of the receiver's probes

  bool operator==(const ProbeMessage&) const = default;
};

// kProbeSize bytes into `out`.
void encode(const ProbeMessage& m, std::span<uint8_t, kProbeSize> out);
// kProbeSize bytes of the current type (epoch, interval and sequence not 0), followed by at most
// the tunnel's padding (fewer than 16 bytes), or nothing.
std::optional<ProbeMessage> decode(std::span<const uint8_t> in);
// Whether an inner packet is a probe (to the probe stage) rather than IP (to the FIB).
inline bool is_probe(std::span<const uint8_t> inner) {
  return !inner.empty() && inner[0] == kProbeType;
}

}  // namespace vigil::paths

// What a router makes of an IPv4 header's options before forwarding the packet (RFC 791,
// RFC 1812 5.2.4 and 5.3.13.3), judged as Linux's ip_options_compile() judges a received
// packet, so the two answer alike: a malformed option earns an ICMP parameter problem that
// points at the octet in error, a source route (LSRR, SSRR) is dropped without a word (Linux's
// accept_source_route is off by default, as RFC 7126 advises), the rest is forwarded.
//
// A packet forwarded with record route or timestamp options gets the router's entry in them
// (fill_ipv4_options), as RFC 791 asks and Linux does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace vigil::dp {

struct Ipv4OptionsCheck {
  enum class Verdict : uint8_t { kForward, kParameterProblem, kSourceRoute };
  Verdict verdict = Verdict::kForward;
  uint8_t pointer = 0;  // kParameterProblem: the octet in error, counted from the header's start
};

// `header` is the whole IPv4 header, `length` its IHL in bytes (20 to 60).
Ipv4OptionsCheck check_ipv4_options(const uint8_t* header, size_t length);

// What a router writes into the options of a packet it forwards.
struct Ipv4OptionsEntry {
  const uint8_t* egress_address = nullptr;      // record route: the address it leaves by (4 bytes)
  const uint8_t* ingress_address = nullptr;     // timestamp with addresses: where it came in
  uint32_t timestamp = 0;                       // ms since midnight UT (RFC 791), host order
  std::function<bool(const uint8_t*)> is_ours;  // prespecified timestamps: is it our address
};

// Adds the router's entries to the record route and timestamp options of a header that
// check_ipv4_options() passed, and counts a full timestamp's overflow; returns whether anything
// changed (the caller then sums the header again). Addresses it lacks leave their option as it
// is.
bool fill_ipv4_options(uint8_t* header, size_t length, const Ipv4OptionsEntry& entry);

// Milliseconds since midnight UT now, for Ipv4OptionsEntry::timestamp.
uint32_t ms_since_midnight_ut();

}  // namespace vigil::dp

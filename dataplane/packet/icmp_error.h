// ICMP errors a router sends about a packet it cannot forward: time exceeded, destination
// unreachable, fragmentation needed / packet too big. Built in place from the offending
// packet, which the error quotes (RFC 792, RFC 1812 4.3.2.3, RFC 4443 2.4), so no buffer is
// allocated on the lcore.
#pragma once

#include <cstdint>

#include "vigil/packet.h"

struct rte_mbuf;

namespace vigil::dp {

enum class IcmpError : uint8_t {
  kTimeExceeded,         // TTL / hop limit reached zero in transit
  kNetUnreachable,       // no route
  kHostUnreachable,      // the neighbour never answered
  kFragmentationNeeded,  // IPv4 with DF, or IPv6 (packet too big); `detail` is the MTU
  kParameterProblem,     // a header field the router cannot accept; `detail` points at it
};

// Whether RFC 1812 4.3.2.7 / RFC 4443 2.4(e) allow an error about `p`: never about an ICMP
// error, a later fragment, or a packet from or to a multicast, broadcast, unspecified or
// loopback address.
bool icmp_error_allowed(const vigil_packet& p);

// Rewrites `m`, whose data starts at the offending packet's IP header, into an ICMP error from
// `box_address` (4 or 16 bytes, network order, the family of the packet) to the packet's
// source, quoting as much of the packet as fits in 576 bytes (IPv4) or 1280 (IPv6). `detail`
// is the next-hop MTU of kFragmentationNeeded or the octet kParameterProblem points at, from
// the IP header's start. Returns false, leaving `m` unusable, when the mbuf lacks headroom
// (it is then dropped).
bool make_icmp_error(rte_mbuf* m, const vigil_packet& p, IcmpError error,
                     const uint8_t* box_address, uint32_t detail = 0);

}  // namespace vigil::dp

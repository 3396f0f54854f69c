// IPv4 fragmentation where a datagram leaves (RFC 791 §3.2, RFC 1812 §4.2.2.7 and §5.2.6): a
// datagram without DF that is longer than the egress MTU is sent as fragments, as Linux does,
// instead of being dropped. DPDK's rte_ipv4_fragment_packet does the splitting (8-byte offset
// multiples, MF, an earlier fragment's offset and MF kept, only the options with the copied
// flag repeated after the first fragment); this adds the Ethernet header and the checksums.
#pragma once

#include <cstdint>
#include <span>

struct rte_mbuf;

namespace vigil::dp {

// More fragments than this (a jumbo datagram to a tiny MTU) and the datagram is dropped.
inline constexpr uint16_t kMaxFragments = 64;

// Splits `frame` (an Ethernet header without tags, then the IPv4 datagram) into frames of at
// most `mtu` bytes of IP each, in mbufs from the frame's own pool, each with the frame's
// Ethernet header and a correct header checksum; `frame` is freed either way. Returns how
// many were written to `out`, or 0 when they could not be made (no mbufs, DF set, a header
// longer than the MTU).
uint16_t fragment_ipv4(rte_mbuf* frame, uint16_t mtu, std::span<rte_mbuf*, kMaxFragments> out);

}  // namespace vigil::dp

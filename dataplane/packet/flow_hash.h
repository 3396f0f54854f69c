// Flow hashes for the fast path.
//
// The XDP classifier's hashes (ebpf/include/vigil/hash.h) are included for code that must
// agree with the classifier. ECMP on the lcores uses ecmp_flow_hash instead: the same
// symmetric ordering of the two endpoints, hashed with the CPU's CRC32C instruction (three
// cycles a word) rather than a multiply-rotate mix (about ten), which made the hash the
// longest dependency chain of the route stage. A router's ECMP hash needs spread and
// stability, not agreement with the classifier.
#pragma once

#include <rte_hash_crc.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "vigil/hash.h"
#pragma GCC diagnostic pop

#include <cstring>

namespace vigil::dp {

// Symmetric: a flow and its replies hash alike (see vigil_source_endpoint_larger); flows that
// differ in an address, a port, the protocol or the direction of their ports hash apart.
inline uint32_t ecmp_flow_hash(const vigil_packet& p, uint32_t seed) {
  const bool swap = vigil_source_endpoint_larger(&p) != 0;
  uint32_t h = seed;
  if (p.l3_proto == 0x0800) {
    h = rte_hash_crc_4byte(swap ? p.dst.v4 : p.src.v4, h);
    h = rte_hash_crc_4byte(swap ? p.src.v4 : p.dst.v4, h);
  } else {
    uint64_t a[2], b[2];
    std::memcpy(a, swap ? p.dst.v6 : p.src.v6, 16);
    std::memcpy(b, swap ? p.src.v6 : p.dst.v6, 16);
    h = static_cast<uint32_t>(rte_hash_crc_8byte(a[0], h));
    h = static_cast<uint32_t>(rte_hash_crc_8byte(a[1], h));
    h = static_cast<uint32_t>(rte_hash_crc_8byte(b[0], h));
    h = static_cast<uint32_t>(rte_hash_crc_8byte(b[1], h));
  }
  // A fragment hashes without its ports, the first one too: only it has them, and every
  // fragment of a datagram must take the same path.
  const uint32_t ports = p.is_fragment ? 0
                         : swap        ? static_cast<uint32_t>(p.dport) << 16 | p.sport
                                       : static_cast<uint32_t>(p.sport) << 16 | p.dport;
  h = rte_hash_crc_4byte(ports, h);
  // The protocol last, and the result's halves folded: CRC's top bits, which the bucket pick
  // uses most, then depend on every input bit.
  h = rte_hash_crc_4byte(p.l4_proto, h);
  return h ^ (h >> 16) * 0x9e3779b1u;
}

}  // namespace vigil::dp

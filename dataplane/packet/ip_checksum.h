// Incremental Internet checksum update (RFC 1624, eqn. 3): change one 16-bit word of a
// header without summing the header again. Values are as they sit in memory; one's
// complement sums do not depend on byte order, so no swapping is needed.
#pragma once

#include <cstdint>
#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "vigil/checksum.h"
#pragma GCC diagnostic pop

namespace vigil::dp {

// HC' = ~(~HC + ~m + m'): the classifier's own, so XDP and the lcores patch headers alike.
inline uint16_t checksum_replace(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  return vigil_csum_replace(checksum, old_word, new_word);
}

// Whether the IPv4 header at `ip` (`header` bytes, 20 to 60) sums to all ones, as a received
// header must. The common 20-byte header is summed in ten unrolled adds, the rest in a loop.
inline bool ipv4_header_checksum_ok(const uint8_t* ip, size_t header) {
  if (header == 20) [[likely]] {
    return vigil_csum_fold(vigil_csum_add(ip, 10, 0)) == 0;
  }
  uint64_t sum = 0;
  for (size_t at = 0; at + 1 < header; at += 2) {
    uint16_t word;
    std::memcpy(&word, ip + at, 2);
    sum += word;
  }
  return vigil_csum_fold(sum) == 0;
}

// Decrements the TTL of the IPv4 header at `ip` and patches its checksum. The TTL shares a
// 16-bit word with the protocol (bytes 8 and 9); the checksum is bytes 10 and 11.
inline void ipv4_decrement_ttl(uint8_t* ip) {
  uint16_t old_word, check;
  std::memcpy(&old_word, ip + 8, 2);
  std::memcpy(&check, ip + 10, 2);
  --ip[8];
  uint16_t new_word;
  std::memcpy(&new_word, ip + 8, 2);
  check = checksum_replace(check, old_word, new_word);
  std::memcpy(ip + 10, &check, 2);
}

}  // namespace vigil::dp

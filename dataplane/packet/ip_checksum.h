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

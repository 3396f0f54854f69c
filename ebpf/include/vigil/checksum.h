/* Internet checksums (RFC 1071) for headers the classifier writes. Sums are taken over 16-bit
 * words as they sit in memory and stored back the same way, which makes them independent of
 * the host's byte order. */
#ifndef VIGIL_CHECKSUM_H
#define VIGIL_CHECKSUM_H

#include "vigil/compat.h"

/* Folds a 64-bit one's-complement accumulator to the 16-bit checksum field value. */
static __always_inline __u16 vigil_csum_fold(__u64 sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

/* Adds `words` 16-bit words at `data` to `sum`; `words` is a constant at every call. */
static __always_inline __u64 vigil_csum_add(const void* data, __u32 words, __u64 sum) {
  const __u16* w = (const __u16*)data;
  for (__u32 i = 0; i < words; i++) {
    sum += w[i];
  }
  return sum;
}

/* One 16-bit word of a summed header changed from `old_word` to `new_word`: the new checksum
 * without summing the header again (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')). */
static __always_inline __u16 vigil_csum_replace(__u16 check, __u16 old_word, __u16 new_word) {
  __u32 sum = (__u16)~check;
  sum += (__u16)~old_word;
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

#endif /* VIGIL_CHECKSUM_H */

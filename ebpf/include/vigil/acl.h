/* ACL matching by rule sets: the source trie and the destination trie each answer, for the
 * longest prefix holding an address, the set of rules whose prefix holds it too (the loader
 * precomputes that set per prefix). A packet matches the rules in both sets; the lowest index,
 * the rule written first, decides. Two lookups, whatever the number of rules. */
#ifndef VIGIL_ACL_H
#define VIGIL_ACL_H

#include "vigil/classifier_types.h"
#include "vigil/compat.h"

/* Index of the lowest set bit; `x` is not zero. No ctz instruction in BPF, so a binary search. */
static __always_inline __u32 vigil_lowest_bit(__u64 x) {
  __u32 n = 0;
  if ((x & 0xffffffffull) == 0) {
    n += 32;
    x >>= 32;
  }
  if ((x & 0xffff) == 0) {
    n += 16;
    x >>= 16;
  }
  if ((x & 0xff) == 0) {
    n += 8;
    x >>= 8;
  }
  if ((x & 0xf) == 0) {
    n += 4;
    x >>= 4;
  }
  if ((x & 0x3) == 0) {
    n += 2;
    x >>= 2;
  }
  if ((x & 0x1) == 0) {
    n += 1;
  }
  return n;
}

/* The first rule in both sets, or -1. */
static __always_inline int vigil_acl_first_match(const struct vigil_acl_mask* src,
                                                 const struct vigil_acl_mask* dst) {
  VIGIL_UNROLL
  for (int w = 0; w < VIGIL_ACL_WORDS; w++) {
    const __u64 both = src->words[w] & dst->words[w];
    if (both != 0) {
      return w * 64 + (int)vigil_lowest_bit(both);
    }
  }
  return -1;
}

#endif /* VIGIL_ACL_H */

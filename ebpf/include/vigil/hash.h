/* The flow hash: Maglev's lookup key, the connection table's spread and the outer source of
 * encapsulated packets. MurmurHash3's 32-bit block mix and finaliser over the 5-tuple, seeded,
 * so every appliance with the same seed picks the same backend for the same flow. */
#ifndef VIGIL_HASH_H
#define VIGIL_HASH_H

#include "vigil/compat.h"
#include "vigil/packet.h"

static __always_inline __u32 vigil_rotl32(__u32 x, int r) {
  return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 vigil_hash_mix(__u32 h, __u32 k) {
  k *= 0xcc9e2d51u;
  k = vigil_rotl32(k, 15);
  k *= 0x1b873593u;
  h ^= k;
  h = vigil_rotl32(h, 13);
  return h * 5 + 0xe6546b64u;
}

static __always_inline __u32 vigil_hash_final(__u32 h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

/* Words are read in memory order, so the hash is the same on every host of one byte order;
 * all the boxes this runs on are little-endian x86 or arm64. */
static __always_inline __u32 vigil_flow_hash(const struct vigil_packet* p, __u32 seed) {
  __u32 h = seed;
  __u32 words = 8;
  if (p->l3_proto == 0x0800) {
    h = vigil_hash_mix(h, p->src.v4);
    h = vigil_hash_mix(h, p->dst.v4);
    words = 2;
  } else {
    const __u32* s = (const __u32*)p->src.v6;
    const __u32* d = (const __u32*)p->dst.v6;
    VIGIL_UNROLL
    for (int i = 0; i < 4; i++) {
      h = vigil_hash_mix(h, s[i]);
      h = vigil_hash_mix(h, d[i]);
    }
  }
  h = vigil_hash_mix(h, (__u32)p->sport << 16 | p->dport);
  h = vigil_hash_mix(h, p->l4_proto);
  return vigil_hash_final(h ^ ((words + 2) * 4));
}

#endif /* VIGIL_HASH_H */

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

/* The connection table's spread: a flow's set and the tag compared before its key. Nothing
 * outside this box must agree with it, so it need not be vigil_flow_hash(), whose seeded
 * 32-bit rounds took about 4 ns of a VIP hit's 50 (measured): the addresses folded to a word
 * each and the ports and protocol mixed in give one 64-bit word, which MurmurHash3's 64-bit
 * finaliser spreads so that every input bit reaches every output bit (the table indexes sets
 * by the low bits). For one destination and protocol, distinct IPv4 sources and ports give
 * distinct words, so they collide only as the finaliser's output does. */
static __always_inline __u32 vigil_conn_hash(const struct vigil_packet* p) {
  const __u32* s = (const __u32*)p->src.v6;
  const __u32* d = (const __u32*)p->dst.v6;
  const __u32 ports = (__u32)p->sport << 16 | p->dport;
  __u64 x = (__u64)(s[0] ^ s[1] ^ s[2] ^ s[3]) << 32 | (d[0] ^ d[1] ^ d[2] ^ d[3] ^ ports);
  x ^= (__u64)p->l4_proto << 56;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return (__u32)x;
}

/* The same flow in both directions hashes alike: the two endpoints (address, port) enter
 * smaller first, so swapping source and destination changes nothing. ECMP uses it so a flow
 * and its replies take one path where the routes are symmetric (stateful peers, one place to
 * capture). Later fragments carry no ports and hash by addresses alone, so they may take
 * another path than their first fragment, as in any router hashing on ports. */
static __always_inline int vigil_source_endpoint_larger(const struct vigil_packet* p) {
  if (p->l3_proto == 0x0800) {
    if (p->src.v4 != p->dst.v4) {
      return p->src.v4 > p->dst.v4;
    }
  } else {
    const __u32* s = (const __u32*)p->src.v6;
    const __u32* d = (const __u32*)p->dst.v6;
    VIGIL_UNROLL
    for (int i = 0; i < 4; i++) {
      if (s[i] != d[i]) {
        return s[i] > d[i];
      }
    }
  }
  return p->sport > p->dport;
}

static __always_inline __u32 vigil_symmetric_flow_hash(const struct vigil_packet* p, __u32 seed) {
  const int swap = vigil_source_endpoint_larger(p);
  __u32 h = seed;
  __u32 words = 8;
  if (p->l3_proto == 0x0800) {
    h = vigil_hash_mix(h, swap ? p->dst.v4 : p->src.v4);
    h = vigil_hash_mix(h, swap ? p->src.v4 : p->dst.v4);
    words = 2;
  } else {
    const __u32* a = (const __u32*)(swap ? p->dst.v6 : p->src.v6);
    const __u32* b = (const __u32*)(swap ? p->src.v6 : p->dst.v6);
    VIGIL_UNROLL
    for (int i = 0; i < 4; i++) {
      h = vigil_hash_mix(h, a[i]);
      h = vigil_hash_mix(h, b[i]);
    }
  }
  const __u32 ports = swap ? (__u32)p->dport << 16 | p->sport : (__u32)p->sport << 16 | p->dport;
  h = vigil_hash_mix(h, ports);
  h = vigil_hash_mix(h, p->l4_proto);
  return vigil_hash_final(h ^ ((words + 2) * 4));
}

#endif /* VIGIL_HASH_H */

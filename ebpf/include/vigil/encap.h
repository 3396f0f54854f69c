/* Outer headers for direct-server-return encapsulation: IPIP / IPv6-in-IPv6 / IPv4-in-IPv6
 * (and IPv6-in-IPv4), optionally inside GUE variant 1 (RFC draft-ietf-intarea-gue §4: the
 * UDP payload is the inner IP packet itself, which Linux's fou/gue receive path decapsulates).
 * The caller has made room and checked bounds; these only fill fields. The IP writers also
 * serve the ICMP errors the classifier sends. */
#ifndef VIGIL_ENCAP_H
#define VIGIL_ENCAP_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "vigil/checksum.h"
#include "vigil/compat.h"

#define VIGIL_OUTER_TTL 64

/* Two bytes as the 16-bit word they make in memory, in either byte order. */
static __always_inline __u16 vigil_memory_word(__u8 first, __u8 second) {
  const __u8 bytes[2] = {first, second};
  __u16 word;
  __builtin_memcpy(&word, bytes, 2);
  return word;
}

/* The header's checksum is summed from the values in registers, not read back from the frame:
 * 16-bit loads over the byte-sized stores just made would wait on store forwarding (2-4 ns per
 * encapsulated packet in xdp_bench, at the edge of its noise). Each term is a 16-bit word as
 * it sits in memory, so the sum is the one vigil_csum_add() would take over the written
 * header. */
static __always_inline void vigil_write_ipv4(struct iphdr* ip, __be32 src, __be32 dst, __u8 proto,
                                             __u8 tos, __u16 total_len) {
  const __be16 length = vigil_htons(total_len);
  *(__u8*)ip = 0x45; /* version 4, 20-byte header */
  ip->tos = tos;
  ip->tot_len = length;
  ip->id = 0;
  ip->frag_off = 0; /* no DF: a router may fragment; too-big is answered before encapsulating */
  ip->ttl = VIGIL_OUTER_TTL;
  ip->protocol = proto;
  ip->saddr = src;
  ip->daddr = dst;
  const __u64 sum = (__u64)vigil_memory_word(0x45, tos) + length +
                    vigil_memory_word(VIGIL_OUTER_TTL, proto) + (src & 0xffff) + (src >> 16) +
                    (dst & 0xffff) + (dst >> 16);
  ip->check = vigil_csum_fold(sum);
}

static __always_inline void vigil_write_ipv6(struct ipv6hdr* ip6, const __u8* src, const __u8* dst,
                                             __u8 nexthdr, __u8 tclass, __u16 payload_len) {
  __u8* b = (__u8*)ip6;
  b[0] = 0x60 | tclass >> 4; /* version 6, traffic class, flow label 0 */
  b[1] = (__u8)(tclass << 4);
  b[2] = 0;
  b[3] = 0;
  ip6->payload_len = vigil_htons(payload_len);
  ip6->nexthdr = nexthdr;
  ip6->hop_limit = VIGIL_OUTER_TTL;
  __builtin_memcpy(&ip6->saddr, src, 16);
  __builtin_memcpy(&ip6->daddr, dst, 16);
}

/* The UDP checksum is left zero: allowed over IPv4, and over IPv6 for tunnels (RFC 6935), which
 * Linux accepts on a tunnel configured with udp6zerocsumrx. */
static __always_inline void vigil_write_gue(struct udphdr* udp, __be16 sport, __be16 dport,
                                            __u16 length) {
  udp->source = sport;
  udp->dest = dport;
  udp->len = vigil_htons(length);
  udp->check = 0;
}

/* Per-flow outer addresses and ports, so the backends' NICs spread flows over their queues. */
static __always_inline __be32 vigil_outer_src4(__be32 base, __u32 hostmask, __u32 hash) {
  return base | vigil_htonl(hash & hostmask);
}

static __always_inline void vigil_outer_src6(__u8* out, const __u8* base, __u32 hostmask,
                                             __u32 hash) {
  __builtin_memcpy(out, base, 16);
  __u32 low;
  __builtin_memcpy(&low, base + 12, 4);
  low |= vigil_htonl(hash & hostmask);
  __builtin_memcpy(out + 12, &low, 4);
}

static __always_inline __be16 vigil_outer_sport(__u32 hash) {
  return vigil_htons((__u16)(0xc000 | ((hash >> 16) & 0x3fff))); /* 49152-65535 */
}

#endif /* VIGIL_ENCAP_H */

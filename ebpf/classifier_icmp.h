/* ICMP errors the classifier answers itself: "fragmentation needed" and "packet too big" to
 * the sender of a VIP packet that would not fit the encapsulation, sent back with XDP_TX. */
#ifndef VIGIL_CLASSIFIER_ICMP_H
#define VIGIL_CLASSIFIER_ICMP_H

#include "classifier_counting.h"
#include "classifier_frame.h"
#include "vigil/checksum.h"

/* linux/icmp.h pulls in glibc's socket headers, which do not build for the BPF target. */
struct vigil_icmp_too_big {
  __u8 type; /* 3: destination unreachable */
  __u8 code; /* 4: fragmentation needed and DF set */
  __sum16 checksum;
  __be16 unused;
  __be16 mtu; /* RFC 1191 */
};
#define VIGIL_ICMP_DEST_UNREACH 3
#define VIGIL_ICMP_FRAG_NEEDED 4

#define VIGIL_ICMP4_QUOTE 68 /* the largest IPv4 header and 8 bytes of what it carries */
#define VIGIL_ICMP6_QUOTE 256
#define VIGIL_ICMP6_PAYLOAD (sizeof(struct icmp6hdr) + VIGIL_ICMP6_QUOTE)

/* Turns the frame around for an ICMP error: keeps L2 and the first `quote` bytes of the
 * packet, makes `room` bytes in front for the reply's headers, moves L2 there and addresses
 * it back to the sender. The caller re-reads ctx->data and writes the headers. */
static __always_inline int turn_around(struct xdp_md* ctx, __u32 l2, int quote, int room,
                                       __u64 bytes) {
  if (bpf_xdp_adjust_tail(ctx, (int)(l2 + quote) - (int)bytes) || bpf_xdp_adjust_head(ctx, -room)) {
    return -1;
  }
  __u8 old_l2[VIGIL_MAX_L2];
  if (move_l2(ctx, room, old_l2)) {
    return -1;
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + VIGIL_MAX_L2 > end) {
    return -1;
  }
  __builtin_memcpy(data, old_l2 + 6, 6); /* the sender's address */
  __builtin_memcpy(data + 6, old_l2, 6); /* ours: the frame was sent to it */
  return 0;
}

/* Turns the frame into an ICMP "fragmentation needed" to its sender, quoting its start. */
static __always_inline int icmp4_too_big(struct xdp_md* ctx, struct vigil_stats* st,
                                         const struct vigil_packet* p, __u32 l2, __u16 mtu,
                                         __u64 bytes) {
  const int room = sizeof(struct iphdr) + sizeof(struct vigil_icmp_too_big);
  if (turn_around(ctx, l2, VIGIL_ICMP4_QUOTE, room, bytes)) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct iphdr* ip = data + l2;
  struct vigil_icmp_too_big* icmp = (void*)(ip + 1);
  if ((void*)icmp + sizeof(*icmp) + VIGIL_ICMP4_QUOTE > end) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  vigil_write_ipv4(ip, p->dst.v4, p->src.v4, IPPROTO_ICMP, 0,
                   sizeof(*ip) + sizeof(*icmp) + VIGIL_ICMP4_QUOTE);
  icmp->type = VIGIL_ICMP_DEST_UNREACH;
  icmp->code = VIGIL_ICMP_FRAG_NEEDED;
  icmp->checksum = 0;
  icmp->unused = 0;
  icmp->mtu = vigil_htons(mtu);
  icmp->checksum =
      vigil_csum_fold(vigil_csum_add(icmp, (sizeof(*icmp) + VIGIL_ICMP4_QUOTE) / 2, 0));
  return verdict(st, VIGIL_VERDICT_TX_ICMP_TOO_BIG, bytes, XDP_TX);
}

/* The IPv6 twin: "packet too big", whose checksum also covers the pseudo-header. */
static __always_inline int icmp6_too_big(struct xdp_md* ctx, struct vigil_stats* st,
                                         const struct vigil_packet* p, __u32 l2, __u32 mtu,
                                         __u64 bytes) {
  const int room = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
  if (turn_around(ctx, l2, VIGIL_ICMP6_QUOTE, room, bytes)) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ipv6hdr* ip6 = data + l2;
  struct icmp6hdr* icmp6 = (void*)(ip6 + 1);
  if ((void*)icmp6 + VIGIL_ICMP6_PAYLOAD > end) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  vigil_write_ipv6(ip6, p->dst.v6, p->src.v6, IPPROTO_ICMPV6, 0, VIGIL_ICMP6_PAYLOAD);
  icmp6->icmp6_type = ICMPV6_PKT_TOOBIG;
  icmp6->icmp6_code = 0;
  icmp6->icmp6_cksum = 0;
  icmp6->icmp6_mtu = vigil_htonl(mtu);
  /* Pseudo-header: source, destination, upper-layer length, three zero bytes, next header. */
  const __u8 tail[8] = {
      0, 0, VIGIL_ICMP6_PAYLOAD >> 8, VIGIL_ICMP6_PAYLOAD & 0xff, 0, 0, 0, IPPROTO_ICMPV6};
  __u64 sum = vigil_csum_add(&ip6->saddr, 16, 0);
  sum = vigil_csum_add(tail, 4, sum);
  sum = vigil_csum_add(icmp6, VIGIL_ICMP6_PAYLOAD / 2, sum);
  icmp6->icmp6_cksum = vigil_csum_fold(sum);
  return verdict(st, VIGIL_VERDICT_TX_ICMP_TOO_BIG, bytes, XDP_TX);
}

#endif /* VIGIL_CLASSIFIER_ICMP_H */

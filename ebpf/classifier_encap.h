/* Encapsulating a VIP packet toward its backend: IPIP (or IPv6-in-IPv6) or GUE, the outer
 * source from the flow hash, sent with XDP_TX to the gateway. Header writing is vigil/encap.h. */
#ifndef VIGIL_CLASSIFIER_ENCAP_H
#define VIGIL_CLASSIFIER_ENCAP_H

#include "classifier_counting.h"
#include "classifier_frame.h"
#include "classifier_icmp.h"
#include "vigil/encap.h"

/* Prepends the outer header(s) toward `be` (whose `family` and `encap` the caller passes) and
 * sends the frame back out to the gateway. */
static __always_inline int encapsulate(struct xdp_md* ctx, struct vigil_stats* st,
                                       const struct vigil_packet* p, const struct vigil_settings* s,
                                       const struct vigil_backend* be, __u8 family, __u8 encap,
                                       __u32 l2, __u32 overhead, __u32 hash, __u64 bytes) {
  const int gue = encap == VIGIL_ENCAP_GUE;
  const int inner_v4 = p->l3_proto == ETH_P_IP;
  const __u8 ip_proto = gue ? IPPROTO_UDP : inner_v4 ? IPPROTO_IPIP : IPPROTO_IPV6;
  if (bpf_xdp_adjust_head(ctx, -(int)overhead)) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (l2 == ETH_HLEN) {
    /* Untagged, the usual case: of the old header only our own address is needed (the frame
     * was sent to it), copied straight across rather than the whole L2 through the stack. */
    if (overhead > 64 || data + overhead + ETH_HLEN > end || data + VIGIL_MAX_L2 > end) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
    }
    __builtin_memcpy(data + 6, data + overhead, 6);
  } else {
    __u8 old_l2[VIGIL_MAX_L2];
    if (move_l2(ctx, overhead, old_l2)) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
    }
    data = (void*)(long)ctx->data;
    end = (void*)(long)ctx->data_end;
    if (data + VIGIL_MAX_L2 > end) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
    }
    __builtin_memcpy(data + 6, old_l2, 6); /* our own address: the frame was sent to it */
  }
  __builtin_memcpy(data, s->gateway_mac, 6);
  const __be16 sport = vigil_outer_sport(hash);
  const __u16 udp_len = (__u16)(p->l3_length + sizeof(struct udphdr));
  if (family == VIGIL_FAMILY_IPV4) {
    struct iphdr* ip = data + l2;
    if ((void*)(ip + 1) + sizeof(struct udphdr) > end) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
    }
    __be32 dst;
    __builtin_memcpy(&dst, be->addr, 4);
    const __be32 src = vigil_outer_src4(s->encap_src4, s->encap_src4_hostmask, hash);
    vigil_write_ipv4(ip, src, dst, ip_proto, p->tos, (__u16)(p->l3_length + overhead));
    if (gue) {
      vigil_write_gue((void*)(ip + 1), sport, s->gue_port, udp_len);
    }
    set_ethertype(data, l2, ETH_P_IP);
  } else {
    struct ipv6hdr* ip6 = data + l2;
    if ((void*)(ip6 + 1) + sizeof(struct udphdr) > end) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
    }
    __u8 src[16];
    vigil_outer_src6(src, s->encap_src6, s->encap_src6_hostmask, hash);
    vigil_write_ipv6(ip6, src, be->addr, ip_proto, p->tos,
                     (__u16)(p->l3_length + overhead - sizeof(*ip6)));
    if (gue) {
      vigil_write_gue((void*)(ip6 + 1), sport, s->gue_port, udp_len);
    }
    set_ethertype(data, l2, ETH_P_IPV6);
  }
  return verdict(st, VIGIL_VERDICT_TX_VIP, bytes, XDP_TX);
}

#endif /* VIGIL_CLASSIFIER_ENCAP_H */

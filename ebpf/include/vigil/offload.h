/* Which packets an offloaded flow entry may carry, and the entry's key, shared by the
 * classifier (which looks flows up) and vigil-dp (which installs them), so both agree on what
 * a flow is. Plain C. */
#ifndef VIGIL_OFFLOAD_H
#define VIGIL_OFFLOAD_H

#include <linux/in.h>

#include "vigil/classifier_types.h"
#include "vigil/compat.h"
#include "vigil/packet.h"

/* Untagged, unfragmented TCP or UDP right after a plain IP header (no IPv4 options, no IPv6
 * extension headers): the only change forwarding makes to these is the TTL and the Ethernet
 * addresses. Tagged frames, fragments, options (source routes, record route), ICMP and the
 * rest always take vigil-dp. */
static __always_inline int vigil_offload_eligible(const struct vigil_packet* p) {
  const __u32 plain_header = p->l3_proto == 0x0800 ? 20 : 40;
  return p->vlan_count == 0 && !p->is_fragment && p->l4_offset == p->l3_offset + plain_header &&
         (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP);
}

/* The 5-tuple of an eligible packet (the parser leaves an IPv4 address's last 12 bytes zero). */
static __always_inline void vigil_offload_key_of(const struct vigil_packet* p,
                                                 struct vigil_offload_key* k) {
  k->family = p->l3_proto == 0x0800 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6;
  k->proto = p->l4_proto;
  k->sport = p->sport;
  k->dport = p->dport;
  k->pad = 0;
  __builtin_memcpy(k->src, p->src.v6, 16);
  __builtin_memcpy(k->dst, p->dst.v6, 16);
}

#endif /* VIGIL_OFFLOAD_H */

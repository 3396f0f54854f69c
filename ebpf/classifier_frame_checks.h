/* What a router checks about a frame before its IP: that it was sent to this port's MAC
 * (Linux's ip_rcv drops other hosts' frames, ip_forward never routes broadcast or multicast
 * ones), that its VLAN is one the port has, and that its addresses are no martians
 * (vigil/martian.h). Needs the port record the loader writes; until then nothing is checked. */
#ifndef VIGIL_CLASSIFIER_FRAME_CHECKS_H
#define VIGIL_CLASSIFIER_FRAME_CHECKS_H

#include "classifier_maps.h"
#include "vigil/martian.h"

enum vigil_frame_class {
  VIGIL_FRAME_OURS,         /* to our MAC, untagged or priority-tagged: may be routed */
  VIGIL_FRAME_GROUP,        /* broadcast or multicast: the kernel's, never routed */
  VIGIL_FRAME_OTHER_HOST,   /* another host's unicast: not ours at all */
  VIGIL_FRAME_VLAN,         /* one of the port's VLAN sub-interfaces: the kernel's */
  VIGIL_FRAME_UNKNOWN_VLAN, /* a tag the port does not have, or two */
};

/* The class of the frame at the start of `ctx`, parsed into `p` (enum vigil_frame_class), and
 * above it, shifted by VIGIL_FRAME_ALLOW_SHIFT, the martian ranges the port allows. A global
 * function, verified once on its own: inlined, the port record's two states (known or not)
 * doubled what the verifier walked through the rest of the program (past its million steps;
 * re-reading the record where needed instead did not help). The call costs the VIP path a few
 * nanoseconds (docs/benchmarks.md). */
#define VIGIL_FRAME_ALLOW_SHIFT 8
__noinline int vigil_frame_class(struct xdp_md* ctx, const struct vigil_packet* p) {
  const __u32 zero = 0;
  const struct vigil_port* port = bpf_map_lookup_elem(&this_port, &zero);
  if (!ctx || !p || !port) {
    return VIGIL_FRAME_OURS;
  }
  const int allow = (int)port->allow_martians << VIGIL_FRAME_ALLOW_SHIFT;
  if (!port->known) {
    return VIGIL_FRAME_OURS | allow;
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  const __u8* dst = data;
  if ((void*)(dst + ETH_HLEN) > end) {
    return VIGIL_FRAME_OURS | allow; /* the parser already refused it */
  }
  if (dst[0] & 1) {
    return VIGIL_FRAME_GROUP | allow;
  }
  __u32 a, b;
  __u16 c, d;
  __builtin_memcpy(&a, dst, 4);
  __builtin_memcpy(&c, dst + 4, 2);
  __builtin_memcpy(&b, port->mac, 4);
  __builtin_memcpy(&d, port->mac + 4, 2);
  if (a != b || c != d) {
    return VIGIL_FRAME_OTHER_HOST;
  }
  if (p->vlan_count == 0 || (p->vlan_count == 1 && p->vlan_ids[0] == 0)) {
    return VIGIL_FRAME_OURS | allow;
  }
  if (p->vlan_count != 1) {
    return VIGIL_FRAME_UNKNOWN_VLAN;
  }
  const __u32 id = p->vlan_ids[0] & 0x0fff;
  return (port->vlans[id / 64] >> (id % 64)) & 1 ? VIGIL_FRAME_VLAN | allow
                                                 : VIGIL_FRAME_UNKNOWN_VLAN;
}

/* Whether `p`'s addresses are martians, with the ranges `allow` lets in: arithmetic only. */
static __always_inline int vigil_is_martian(const struct vigil_packet* p, __u32 allow) {
  const int martian = p->l3_proto == ETH_P_IP ? vigil_martian4(p->src.v4, p->dst.v4, allow)
                                              : vigil_martian6(p->src.v6, p->dst.v6, allow);
  return martian != VIGIL_MARTIAN_NONE;
}

static __always_inline int is_local_address(const __u8* addr, int v4) {
  struct vigil_local_address_key a = {.family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6};
  __builtin_memcpy(a.addr, addr, 16);
  return bpf_map_lookup_elem(&local_addresses, &a) != 0;
}

/* A token from both the source's and the total bucket, or from neither: a source refused
 * by the total keeps its own. */
static __always_inline int take_icmp_tokens(struct vigil_credit_bucket* source,
                                            struct vigil_credit_bucket* total, __u64 now) {
  vigil_credit_refill(source, now, VIGIL_ICMP_SOURCE_INTERVAL_NS * VIGIL_ICMP_SOURCE_BURST);
  vigil_credit_refill(total, now, VIGIL_ICMP_TOTAL_INTERVAL_NS * VIGIL_ICMP_TOTAL_BURST);
  if (!vigil_credit_has(source, VIGIL_ICMP_SOURCE_INTERVAL_NS) ||
      !vigil_credit_has(total, VIGIL_ICMP_TOTAL_INTERVAL_NS)) {
    return 0;
  }
  vigil_credit_take(source, VIGIL_ICMP_SOURCE_INTERVAL_NS);
  vigil_credit_take(total, VIGIL_ICMP_TOTAL_INTERVAL_NS);
  return 1;
}

/* Whether the classifier may answer packet `p` with an ICMP error: never to the box's own
 * address (the sources martian() refuses never get this far), and within this CPU's budgets
 * for the source and in all. A global function, verified once on its own (see
 * vigil_forward_offloaded). */
__noinline int vigil_icmp_allowed(const struct vigil_packet* p) {
  if (!p) {
    return 0;
  }
  const int v4 = p->l3_proto == ETH_P_IP;
  if (is_local_address(p->src.v6, v4)) {
    return 0;
  }
  const __u64 now = bpf_ktime_get_ns();
  const __u32 zero = 0;
  struct vigil_credit_bucket* total = bpf_map_lookup_elem(&icmp_budget, &zero);
  if (!total) {
    return 0;
  }
  struct vigil_icmp_source_key k = {.family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6};
  __builtin_memcpy(k.addr, p->src.v6, 16);
  struct vigil_credit_bucket* source = bpf_map_lookup_elem(&icmp_sources, &k);
  if (!source) {
    /* A source not seen lately starts with a full bucket. */
    const struct vigil_credit_bucket fresh = {
        .credit = VIGIL_ICMP_SOURCE_INTERVAL_NS * VIGIL_ICMP_SOURCE_BURST, .last = now};
    bpf_map_update_elem(&icmp_sources, &k, &fresh, BPF_ANY);
    source = bpf_map_lookup_elem(&icmp_sources, &k);
    if (!source) {
      return 0;
    }
  }
  return take_icmp_tokens(source, total, now);
}

#endif /* VIGIL_CLASSIFIER_FRAME_CHECKS_H */

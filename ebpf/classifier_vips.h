/* L4 VIPs: whether a packet is for one, its backend (its connection's, else Maglev's pick),
 * and forwarding it there encapsulated (direct server return). */
#ifndef VIGIL_CLASSIFIER_VIPS_H
#define VIGIL_CLASSIFIER_VIPS_H

#include "classifier_conn_table.h"
#include "classifier_encap.h"
#include "classifier_frame_checks.h"
#include "classifier_policy.h"
#include "vigil/vip_filter.h"

/* 0 when no VIP has the packet's destination address: its bit in vip_filter is clear. */
static __always_inline int maybe_vip(const struct vigil_packet* p) {
  const __u32 bit = vigil_vip_filter_bit(p->dst.v6);
  const __u32 word = bit / 64;
  const __u64* bits = bpf_map_lookup_elem(&vip_filter, &word);
  return bits && (*bits >> (bit % 64)) & 1;
}

/* 1 when the packet is for a VIP (m->hit or m->vip set); fills `flow` for those. A packet of an
 * established flow finds its connection first and skips the VIP lookup; a connection outlives
 * its VIP only as long as the VIP's backends stay active, which removing the VIP ends. */
static __always_inline int find_vip(const struct vigil_packet* p, int v4,
                                    struct vigil_flow_key* flow, struct vip_match* m) {
  if (!maybe_vip(p)) {
    return 0;
  }
  flow_key(flow, p, v4);
  m->tag = vigil_conn_hash(p);
  const __u32 index =
      bpf_get_smp_processor_id() * vigil_conn_sets + (m->tag & (vigil_conn_sets - 1));
  m->set = bpf_map_lookup_elem(&conns, &index);
  if (m->set) {
    /* A flow that keeps sending sits in way 0 (each hit moves it one way up): that way is
     * checked here, inline, and the search, a call that spills registers, is for the rest. */
    const int way =
        way_holds(&m->set->way[0], flow, m->tag) ? 0 : vigil_conn_find(m->set, flow, m->tag);
    if (way >= 0) {
      m->way = (__u32)way;
      m->conn = &m->set->way[way_index(way)].conn;
      __u32 backend = m->conn->backend;
      const struct vigil_backend* be = bpf_map_lookup_elem(&backends, &backend);
      if (be && be->active && be->generation == m->conn->generation) {
        m->hit = be;
        return 1;
      }
    }
  }
  struct vigil_vip_key k = {
      .port = p->dport, .proto = p->l4_proto, .family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6};
  __builtin_memcpy(k.addr, p->dst.v6, 16);
  m->vip = bpf_map_lookup_elem(&vips, &k);
  return m->vip != 0;
}

static __always_inline void fragment_key(const struct vigil_packet* p,
                                         struct vigil_fragment_key* k) {
  k->family = p->l3_proto == ETH_P_IP ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6;
  k->proto = p->l4_proto;
  k->pad = 0;
  k->id = p->frag_id;
  __builtin_memcpy(k->src, p->src.v6, 16);
  __builtin_memcpy(k->dst, p->dst.v6, 16);
}

/* A first fragment on its way to a VIP: its ports, for the fragments after it. */
static __always_inline void remember_vip_fragment(const struct vigil_packet* p) {
  struct vigil_fragment_key k;
  fragment_key(p, &k);
  const struct vigil_fragment_ports ports = {.sport = p->sport, .dport = p->dport};
  bpf_map_update_elem(&vip_fragments, &k, &ports, BPF_ANY);
}

/* A later fragment to a VIP's address: 1, its ports restored from its first fragment, when that
 * went to a VIP; 0 otherwise (it arrived first, or the datagram is not a VIP's). A global
 * function, verified once on its own: inlined, the paths it opens took the program past the
 * verifier's million steps. */
__noinline int vigil_vip_fragment_ports(struct vigil_stats* st, struct vigil_packet* p) {
  if (!st || !p || !maybe_vip(p)) {
    return 0;
  }
  struct vigil_fragment_key k;
  fragment_key(p, &k);
  const struct vigil_fragment_ports* ports = bpf_map_lookup_elem(&vip_fragments, &k);
  if (!ports) {
    event(st, VIGIL_EVENT_VIP_FRAGMENT_UNMATCHED);
    return 0;
  }
  event(st, VIGIL_EVENT_VIP_FRAGMENT_MATCHED);
  p->sport = ports->sport;
  p->dport = ports->dport;
  return 1;
}

/* The backend for this flow: its connection's on a hit, else Maglev's pick from m->vip.
 * `refresh`: the connection's remembered policy is out of date and `policy` is the new one.
 * *hash is the flow hash: remembered on a hit, computed (Maglev's key) otherwise. */
static __always_inline const struct vigil_backend* pick_backend(
    struct vigil_stats* st, const struct vip_match* m, const struct vigil_packet* p,
    const struct vigil_flow_key* k, const struct flow_policy* policy, int refresh,
    const struct vigil_settings* s, __u32* hash, __u32* index) {
  if (m->hit) {
    event(st, VIGIL_EVENT_CONN_HIT);
    *index = m->conn->backend;
    *hash = m->conn->flow_hash;
    if (refresh) {
      remember(st, m, k, *index, m->hit->generation, *hash, policy, s->policy_generation);
    }
    return m->hit;
  }
  if (m->conn) {
    event(st, VIGIL_EVENT_CONN_STALE);
  } else {
    event(st, VIGIL_EVENT_CONN_MISS);
  }
  /* Computed again rather than taken from a stale connection: the seed may have changed
   * since, and Maglev must pick what every other box with this seed picks. */
  *hash = vigil_flow_hash(p, s->hash_seed);
  if (!m->vip || m->vip->ring >= VIGIL_MAGLEV_SLOTS) {
    return 0;
  }
  const __u32 position = *hash % VIGIL_MAGLEV_RING_SIZE;
  const __u32 pair = m->vip->ring * (VIGIL_MAGLEV_STRIDE / 2) + position / 2;
  const struct vigil_maglev_pair* entry = bpf_map_lookup_elem(&maglev, &pair);
  if (!entry) {
    return 0;
  }
  *index = entry->backend[position & 1];
  const struct vigil_backend* be = bpf_map_lookup_elem(&backends, index);
  if (!be || !be->active) {
    return 0;
  }
  remember(st, m, k, *index, be->generation, *hash, policy, s->policy_generation);
  return be;
}

static __always_inline int forward_to_vip(struct xdp_md* ctx, struct vigil_stats* st,
                                          const struct vigil_packet* p, const struct vip_match* m,
                                          const struct vigil_flow_key* k,
                                          const struct flow_policy* policy, int refresh,
                                          const struct vigil_settings* s, int v4, __u64 bytes) {
  __u32 hash = 0;
  __u32 index = 0;
  const struct vigil_backend* be = pick_backend(st, m, p, k, policy, refresh, s, &hash, &index);
  if (!be) {
    if (m->vip) {
      count_vip(st, m->vip->index, bytes);
    }
    return verdict(st, VIGIL_VERDICT_DROP_VIP_NO_BACKEND, bytes, XDP_DROP);
  }
  count_vip(st, be->vip, bytes);
  count_backend(st, index, bytes);
  const __u32 l2 = p->l3_offset;
  if (l2 > VIGIL_MAX_L2 || l2 < ETH_HLEN) {
    return verdict(st, VIGIL_VERDICT_DROP_VIP_ENCAP_FAILED, bytes, XDP_DROP);
  }
  const __u32 overhead =
      (be->family == VIGIL_FAMILY_IPV4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) +
      (be->encap == VIGIL_ENCAP_GUE ? sizeof(struct udphdr) : 0);
  if (p->l3_length + overhead > s->encap_mtu) {
    const __u32 inner_mtu = s->encap_mtu - overhead;
    if (v4 && !p->dont_fragment) {
      /* XDP cannot fragment, and the sender did not ask to be told. */
      return verdict(st, VIGIL_VERDICT_DROP_VIP_TOO_BIG, bytes, XDP_DROP);
    }
    if (!vigil_icmp_allowed(p)) {
      return verdict(st, VIGIL_VERDICT_DROP_VIP_TOO_BIG_UNANSWERED, bytes, XDP_DROP);
    }
    if (!v4) {
      return icmp6_too_big(ctx, st, p, l2, inner_mtu, bytes);
    }
    return icmp4_too_big(ctx, st, p, l2, (__u16)inner_mtu, bytes);
  }
  /* The commonest case, IPIP to an IPv4 backend from an untagged frame, gets its own copy with
   * the header sizes constant, so it runs without the branches on family, tags and GUE (about
   * 3 ns of a VIP hit, measured). */
  if (l2 == ETH_HLEN && be->family == VIGIL_FAMILY_IPV4 && be->encap == VIGIL_ENCAP_IPIP) {
    return encapsulate(ctx, st, p, s, be, VIGIL_FAMILY_IPV4, VIGIL_ENCAP_IPIP, ETH_HLEN,
                       sizeof(struct iphdr), hash, bytes);
  }
  return encapsulate(ctx, st, p, s, be, be->family, be->encap, l2, overhead, hash, bytes);
}

#endif /* VIGIL_CLASSIFIER_VIPS_H */

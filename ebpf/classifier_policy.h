/* The classifier's policy over its maps: ACL (rule sets from the source and destination
 * tries), per-source rate limits and per-destination SYN limits, and the addresses that always
 * pass. The set and bucket arithmetic is vigil/acl.h and vigil/policer.h, tested on the host. */
#ifndef VIGIL_CLASSIFIER_POLICY_H
#define VIGIL_CLASSIFIER_POLICY_H

#include "classifier_counting.h"
#include "vigil/acl.h"
#include "vigil/martian.h"
#include "vigil/policer.h"

static __always_inline void lpm4(struct vigil_lpm4_key* k, __be32 addr) {
  k->prefixlen = 32;
  __builtin_memcpy(k->addr, &addr, 4);
}

static __always_inline void lpm6(struct vigil_lpm6_key* k, const __u8* addr) {
  k->prefixlen = 128;
  __builtin_memcpy(k->addr, addr, 16);
}

/* Counts the packet under an ACL rule; 1 when that rule denies. */
static __always_inline int acl_rule_denies(__u32 rule, __u64 bytes) {
  count(&acl_stats, rule, bytes);
  const __u32* action = bpf_map_lookup_elem(&acl_actions, &rule);
  return action && *action == VIGIL_ACTION_DROP;
}

/* The first rule in both sets decides: 1 when it denies; *matched says which rule, if any. */
static __always_inline int acl_decide(const struct vigil_acl_mask* src,
                                      const struct vigil_acl_mask* dst, __u64 bytes,
                                      __u16* matched) {
  if (!src || !dst) {
    return 0;
  }
  const int rule = vigil_acl_first_match(src, dst);
  if (rule < 0) {
    return 0;
  }
  *matched = (__u16)rule;
  return acl_rule_denies((__u32)rule, bytes);
}

/* Each family's lookups end in their own return: code shared after them would let the compiler
 * merge the two families' calls into one call on "trie A or trie B", which the verifier can only
 * make a generic helper call (indirect, several times slower) instead of a direct one. */
static __always_inline int acl_denies(const struct vigil_packet* p, const struct vigil_settings* s,
                                      int v4, __u64 bytes, __u16* matched) {
  if (!(s->tries & (v4 ? VIGIL_TRIE_ACL4 : VIGIL_TRIE_ACL6))) {
    return 0;
  }
  if (v4) {
    struct vigil_lpm4_key k;
    lpm4(&k, p->src.v4);
    const struct vigil_acl_mask* src = bpf_map_lookup_elem(&acl_src4, &k);
    lpm4(&k, p->dst.v4);
    return acl_decide(src, bpf_map_lookup_elem(&acl_dst4, &k), bytes, matched);
  }
  struct vigil_lpm6_key k;
  lpm6(&k, p->src.v6);
  const struct vigil_acl_mask* src = bpf_map_lookup_elem(&acl_src6, &k);
  lpm6(&k, p->dst.v6);
  return acl_decide(src, bpf_map_lookup_elem(&acl_dst6, &k), bytes, matched);
}

/* 1 to pass. A missing policer passes: the loader writes it before the prefix that names it. */
static __always_inline int police(const __u32* index, __u64 bytes) {
  if (!index) {
    return 1;
  }
  const struct vigil_policer* cfg = bpf_map_lookup_elem(&policers, index);
  struct vigil_bucket* bucket = bpf_map_lookup_elem(&buckets, index);
  struct vigil_policer_counter* c = bpf_map_lookup_elem(&policer_stats, index);
  if (!cfg || !bucket || !c) {
    return 1;
  }
  if (vigil_police(cfg, bucket, bpf_ktime_get_ns(), bytes)) {
    c->passed_packets++;
    c->passed_bytes += bytes;
    return 1;
  }
  c->dropped_packets++;
  c->dropped_bytes += bytes;
  return 0;
}

/* police() that also says which policer it was. */
static __always_inline int police_noting(const __u32* index, __u64 bytes, __u16* policer) {
  if (index) {
    *policer = (__u16)*index;
  }
  return police(index, bytes);
}

/* 1 to pass; *policer says which policer the source falls under, if any. One return per
 * family, as in acl_denies(). */
static __always_inline int police_source(const struct vigil_packet* p,
                                         const struct vigil_settings* s, int v4, __u64 bytes,
                                         __u16* policer) {
  if (!(s->tries & (v4 ? VIGIL_TRIE_RATE4 : VIGIL_TRIE_RATE6))) {
    return 1;
  }
  if (v4) {
    struct vigil_lpm4_key k;
    lpm4(&k, p->src.v4);
    return police_noting(bpf_map_lookup_elem(&rate_src4, &k), bytes, policer);
  }
  struct vigil_lpm6_key k;
  lpm6(&k, p->src.v6);
  return police_noting(bpf_map_lookup_elem(&rate_src6, &k), bytes, policer);
}

static __always_inline int police_syn(const struct vigil_packet* p, const struct vigil_settings* s,
                                      int v4, __u64 bytes) {
  if (!(s->tries & (v4 ? VIGIL_TRIE_SYN4 : VIGIL_TRIE_SYN6))) {
    return 1;
  }
  if (v4) {
    struct vigil_lpm4_key k;
    lpm4(&k, p->dst.v4);
    return police(bpf_map_lookup_elem(&syn_dst4, &k), bytes);
  }
  struct vigil_lpm6_key k;
  lpm6(&k, p->dst.v6);
  return police(bpf_map_lookup_elem(&syn_dst6, &k), bytes);
}

/* A packet whose L4 the parser could not reach counts as a SYN too: a SYN limit cannot be
 * dodged by hiding the SYN behind a long IPv6 extension-header chain. */
static __always_inline int is_bare_syn(const struct vigil_packet* p) {
  const __u8 syn = 0x02;
  const __u8 ack = 0x10;
  return p->l4_unknown || (p->l4_proto == IPPROTO_TCP && (p->tcp_flags & (syn | ack)) == syn);
}

static __always_inline int is_multicast_or_link_local(const struct vigil_packet* p, int v4) {
  if (v4) {
    return vigil_group_destination4(p->dst.v4);
  }
  return vigil_group_destination6(p->dst.v6) || vigil_link_local6(p->dst.v6);
}

#endif /* VIGIL_CLASSIFIER_POLICY_H */

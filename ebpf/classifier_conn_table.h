/* The connection table: established VIP flows keep their backend (and the policy their
 * first packet found) in per-CPU sets of VIGIL_CONN_WAYS ways, tagged by the flow hash. */
#ifndef VIGIL_CLASSIFIER_CONN_TABLE_H
#define VIGIL_CLASSIFIER_CONN_TABLE_H

#include "classifier_counting.h"
#include "vigil/hash.h"

static __always_inline void flow_key(struct vigil_flow_key* k, const struct vigil_packet* p,
                                     int v4) {
  __builtin_memcpy(k->src, p->src.v6, 16); /* for IPv4 the rest of the union is zero */
  __builtin_memcpy(k->dst, p->dst.v6, 16);
  k->sport = p->sport;
  k->dport = p->dport;
  k->proto = p->l4_proto;
  k->family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6;
}

/* What a packet is to the VIPs: its set of the connection table and its connection there, if
 * any; that connection's backend while it is still valid (a hit, which needs nothing else: the
 * backend entry names its VIP and the encapsulation); otherwise its VIP entry, if its
 * destination is a VIP. */
struct vip_match {
  struct vigil_conn_set* set;
  __u32 way; /* of `conn` in `set` */
  __u32 tag; /* vigil_conn_hash(): the set and the tag of the flow's way */
  const struct vigil_conn* conn;
  const struct vigil_backend* hit;
  const struct vigil_vip* vip;
};

/* A way index the verifier can bound where it is used: clang would drop a mask it can prove
 * redundant and index with a copy reloaded from the stack, whose range the verifier lost. */
static __always_inline __u32 way_index(int way) {
  __u32 w = (__u32)way;
  barrier_var(w);
  return w & (VIGIL_CONN_WAYS - 1);
}

static __always_inline int same_flow(const struct vigil_flow_key* a,
                                     const struct vigil_flow_key* b) {
  const __u64* x = (const __u64*)a;
  const __u64* y = (const __u64*)b;
  return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* Whether `w` holds `flow`: the tag first, the key only when the tag matches. */
static __always_inline int way_holds(const struct vigil_conn_way* w,
                                     const struct vigil_flow_key* flow, __u32 tag) {
  return w->tag == tag && same_flow(&w->key, flow);
}

/* The connection table's two searches are global functions: the verifier checks each once on
 * its own and its callers see only a returned number, where inlined they would multiply the
 * program's paths by every way a search can end (which ran past the verifier's limit). */

/* The way after the first holding `flow` in `set`, moved one way up (a connection that keeps
 * sending climbs above those that do not); -1 when none does. The caller has checked way 0. */
__noinline int vigil_conn_find(struct vigil_conn_set* set, const struct vigil_flow_key* flow,
                               __u32 tag) {
  if (!set || !flow) {
    return -1;
  }
  int found = -1;
  VIGIL_UNROLL
  for (int i = 1; i < VIGIL_CONN_WAYS; i++) {
    if (found < 0 && way_holds(&set->way[i], flow, tag)) {
      found = i;
    }
  }
  if (found > 0) {
    const __u32 w = (__u32)found & (VIGIL_CONN_WAYS - 1);
    const struct vigil_conn_way up = set->way[w];
    set->way[w] = set->way[w - 1];
    set->way[w - 1] = up;
    found = (int)w - 1;
  }
  return found;
}

/* The first empty way of `set`; -1 when every way holds a connection. */
__noinline int vigil_conn_empty(struct vigil_conn_set* set) {
  if (!set) {
    return -1;
  }
  VIGIL_UNROLL
  for (int i = 0; i < VIGIL_CONN_WAYS; i++) {
    if (set->way[i].key.family == 0) {
      return i;
    }
  }
  return -1;
}

/* What one packet's policy lookups found, to be remembered in its connection. */
struct flow_policy {
  __u16 acl_rule;
  __u16 policer;
};

/* Writes the flow's connection: over its old one (stale, or remembering an old policy), else
 * into an empty way, else over the set's last way. The table is this CPU's alone. */
static __always_inline void remember(struct vigil_stats* st, const struct vip_match* m,
                                     const struct vigil_flow_key* k, __u32 backend,
                                     __u32 generation, __u32 hash, const struct flow_policy* policy,
                                     __u32 policy_generation) {
  struct vigil_conn_set* set = m->set;
  if (!set) {
    return;
  }
  const struct vigil_conn c = {.backend = backend,
                               .generation = generation,
                               .policy_generation = policy_generation,
                               .acl_rule = policy->acl_rule,
                               .policer = policy->policer,
                               .flow_hash = hash};
  if (m->conn) {
    set->way[way_index((int)m->way)].conn = c;
    return;
  }
  int way = vigil_conn_empty(set);
  if (way < 0) {
    event(st, VIGIL_EVENT_CONN_EVICTED);
    way = VIGIL_CONN_WAYS - 1;
  }
  struct vigil_conn_way* w = &set->way[way_index(way)];
  w->key = *k;
  w->conn = c;
  w->tag = m->tag;
}

#endif /* VIGIL_CLASSIFIER_CONN_TABLE_H */

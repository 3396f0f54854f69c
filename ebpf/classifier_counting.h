/* Counting in the classifier: every packet is counted under exactly one verdict, in its
 * CPU's stats record (one lookup a packet), plus events and per-VIP/backend counts. */
#ifndef VIGIL_CLASSIFIER_COUNTING_H
#define VIGIL_CLASSIFIER_COUNTING_H

#include "classifier_maps.h"

static __always_inline void count(void* map, __u32 index, __u64 bytes) {
  struct vigil_counter* c = bpf_map_lookup_elem(map, &index);
  if (c) {
    c->packets++;
    c->bytes += bytes;
  }
}

static __always_inline void add(struct vigil_counter* c, __u64 bytes) {
  c->packets++;
  c->bytes += bytes;
}

/* The packet's verdict, counted; `v` is a constant at every call. */
static __always_inline int verdict(struct vigil_stats* st, __u32 v, __u64 bytes, int action) {
  add(&st->verdict[v], bytes);
  return action;
}

static __always_inline void event(struct vigil_stats* st, __u32 e) {
  st->event[e].packets++;
}

/* The loader writes only indices below these; the checks are for the verifier. */
static __always_inline void count_vip(struct vigil_stats* st, __u32 vip, __u64 bytes) {
  if (vip < VIGIL_MAX_VIPS) {
    add(&st->vip[vip], bytes);
  }
}

static __always_inline void count_backend(struct vigil_stats* st, __u32 backend, __u64 bytes) {
  if (backend < VIGIL_MAX_BACKENDS) {
    add(&st->backend[backend], bytes);
  }
}

static __always_inline int default_verdict(struct vigil_stats* st, const struct vigil_settings* s,
                                           __u64 bytes) {
  if (s->default_action == VIGIL_ACTION_DROP) {
    return verdict(st, VIGIL_VERDICT_DROP_DEFAULT, bytes, XDP_DROP);
  }
  return verdict(st, VIGIL_VERDICT_PASS_DEFAULT, bytes, XDP_PASS);
}

#endif /* VIGIL_CLASSIFIER_COUNTING_H */

/* Steering what is not a VIP's: the box's own service ports pass to the kernel, tunnel and
 * probe ports and transit (later fragments too) go to the fast path (AF_XDP), an offloaded
 * flow is forwarded here. */
#ifndef VIGIL_CLASSIFIER_STEERING_H
#define VIGIL_CLASSIFIER_STEERING_H

#include "classifier_frame_checks.h"
#include "classifier_offload.h"
#include "classifier_policy.h"
#include "classifier_vips.h"

static __always_inline int to_fast_path(struct xdp_md* ctx, struct vigil_stats* st, __u64 bytes) {
  __u32 queue = ctx->rx_queue_index;
  if (bpf_map_lookup_elem(&xsks_map, &queue)) {
    add(&st->verdict[VIGIL_VERDICT_REDIRECT_FAST_PATH], bytes);
    return bpf_redirect_map(&xsks_map, queue, XDP_PASS);
  }
  /* vigil-dp is down or restarting: the kernel gets the packet rather than nobody. */
  return verdict(st, VIGIL_VERDICT_PASS_FAST_PATH_DOWN, bytes, XDP_PASS);
}

static __always_inline int to_transit(struct xdp_md* ctx, struct vigil_stats* st,
                                      const struct vigil_packet* p, const struct vigil_settings* s,
                                      int v4, __u64 bytes) {
  if (!s->steer_transit) {
    return default_verdict(st, s, bytes);
  }
  if (vigil_features & VIGIL_FEATURE_OFFLOAD) {
    const int action = vigil_forward_offloaded(ctx, st, p, v4, bytes);
    if (action >= 0) {
      return action;
    }
  }
  return to_fast_path(ctx, st, bytes);
}

/* A later fragment has no ports: for the box, the kernel reassembles it; in transit, the fast
 * path routes it like the first (an offloaded flow never holds fragments). */
static __always_inline int steer_later_fragment(struct xdp_md* ctx, struct vigil_stats* st,
                                                const struct vigil_packet* p,
                                                const struct vigil_settings* s, int v4,
                                                __u64 bytes) {
  if ((vigil_features & VIGIL_FEATURE_STEERING) && s->steer_transit &&
      !is_multicast_or_link_local(p, v4) && !is_local_address(p->dst.v6, v4)) {
    return to_fast_path(ctx, st, bytes);
  }
  return verdict(st, VIGIL_VERDICT_PASS_LATER_FRAGMENT, bytes, XDP_PASS);
}

/* An IPv6 packet whose extension headers outrun the parser's walk (its L4 unknown): in
 * transit the fast path routes it as Linux would; the box's own services and the VIPs need
 * its ports, so for them it stays malformed. */
static __always_inline int steer_unwalked(struct xdp_md* ctx, struct vigil_stats* st,
                                          const struct vigil_packet* p,
                                          const struct vigil_settings* s, int v4, __u64 bytes) {
  if (is_local_address(p->dst.v6, v4) || ((vigil_features & VIGIL_FEATURE_VIPS) && maybe_vip(p))) {
    add(&st->malformed[VIGIL_PARSE_TOO_MANY_IPV6_EXT], bytes);
    return verdict(st, VIGIL_VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
  }
  return to_transit(ctx, st, p, s, v4, bytes);
}

static __always_inline int steer(struct xdp_md* ctx, struct vigil_stats* st,
                                 const struct vigil_packet* p, const struct vigil_settings* s,
                                 int v4, __u64 bytes) {
  if (!is_local_address(p->dst.v6, v4)) {
    return to_transit(ctx, st, p, s, v4, bytes);
  }
  if (p->l4_proto == IPPROTO_ICMP || p->l4_proto == IPPROTO_ICMPV6) {
    return verdict(st, VIGIL_VERDICT_PASS_LOCAL_SERVICE, bytes, XDP_PASS);
  }
  const struct vigil_local_port_key k = {.proto = p->l4_proto, .port = p->dport};
  const __u32* action = bpf_map_lookup_elem(&local_ports, &k);
  if (!action) {
    return default_verdict(st, s, bytes);
  }
  if (*action == VIGIL_ACTION_FAST_PATH) {
    return to_fast_path(ctx, st, bytes);
  }
  return verdict(st, VIGIL_VERDICT_PASS_LOCAL_SERVICE, bytes, XDP_PASS);
}

#endif /* VIGIL_CLASSIFIER_STEERING_H */

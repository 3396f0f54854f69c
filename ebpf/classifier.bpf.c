/* The XDP classifier: the first thing every packet meets on a Vigil port.
 *
 *   parse ─► another host's frame or VLAN? dropped ─► VIP? its connection ─► ACL
 *         ─► per-source rate limit ─► SYN limit ─► broadcast/multicast frames and VLAN
 *            sub-interfaces to the kernel ─► later fragments: a VIP's on with its first
 *            fragment's ports, the box's and multicast to the kernel, transit to the fast
 *            path ─► multicast addresses to the kernel
 *         ─► L4 VIP (no martian source): the connection's backend or Maglev, then IPIP/GUE
 *            to the backend (XDP_TX; too big: an ICMP error, rate-limited)
 *         ─► for the box: service ports pass, tunnel/probe ports go to the fast path
 *         ─► transit: a flow vigil-dp offloaded, forwarded here (XDP_REDIRECT); else to the
 *            fast path (AF_XDP) or the default policy
 *
 * A VIP flow's connection also remembers which ACL rule and which policer its first packet
 * found, under the loader's policy generation; later packets other than bare SYNs take those
 * instead of the three trie lookups, and are still counted and policed as before.
 *
 * Every packet is counted under exactly one verdict. The decisions that need no map (parse,
 * hashing, policing arithmetic, ACL set matching, header writing) live in include/vigil/ and
 * are unit-tested and fuzzed on the host. The glue between them and the maps is split by role,
 * as Katran splits its program: classifier_maps.h (every map, with what it is for), counting,
 * policy, frame rewriting, ICMP errors, encapsulation, the connection table, VIPs, offloaded
 * flows and steering, each a classifier_*.h beside this file. This file keeps the top-level
 * flow: the one XDP function below. */
#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>

#include "vigil/classifier_types.h"
#include "vigil/checksum.h"
#include "vigil/encap.h"
#include "vigil/hash.h"
#include "vigil/offload.h"
#include "vigil/parse.h"

/* The program's parts by role, in the order they build on each other. */
#include "classifier_maps.h"
#include "classifier_counting.h"
#include "classifier_policy.h"
#include "classifier_frame.h"
#include "classifier_icmp.h"
#include "classifier_encap.h"
#include "classifier_frame_checks.h"
#include "classifier_conn_table.h"
#include "classifier_vips.h"
#include "classifier_offload.h"
#include "classifier_steering.h"

/* The project's licence; the program calls no GPL-only helper. */
char LICENSE[] SEC("license") = "Apache-2.0";

SEC("xdp")
int vigil_classify(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  const __u64 bytes = end - data;

  const __u32 zero = 0;
  struct vigil_stats* st = bpf_map_lookup_elem(&stats, &zero);
  if (!st) {
    return XDP_PASS; /* cannot happen: a per-CPU array's one entry always exists */
  }
  struct vigil_packet p = {};
  const int parsed = vigil_parse_packet(data, end, &p);
  if (parsed == VIGIL_PARSE_NOT_IP) {
    return verdict(st, VIGIL_VERDICT_PASS_NOT_IP, bytes, XDP_PASS); /* ARP, LLDP, ... */
  }
  if (parsed != VIGIL_PARSE_OK) {
    if ((__u32)parsed < VIGIL_PARSE_RESULT_COUNT) {
      add(&st->malformed[parsed], bytes);
    }
    return verdict(st, VIGIL_VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
  }
  const struct vigil_settings* s = bpf_map_lookup_elem(&settings, &zero);
  if (!s || s->default_action == 0) {
    return verdict(st, VIGIL_VERDICT_PASS_UNCONFIGURED, bytes, XDP_PASS);
  }
  /* Another host's frame, or a VLAN the port does not have, is nobody's here: dropped before
   * anything else, as Linux drops it on receipt. */
  const int frame_info = vigil_frame_class(ctx, &p);
  const int frame = frame_info & ((1 << VIGIL_FRAME_ALLOW_SHIFT) - 1);
  const __u32 allow_martians = (__u32)frame_info >> VIGIL_FRAME_ALLOW_SHIFT;
  if (frame == VIGIL_FRAME_OTHER_HOST) {
    return verdict(st, VIGIL_VERDICT_DROP_OTHER_HOST, bytes, XDP_DROP);
  }
  if (frame == VIGIL_FRAME_UNKNOWN_VLAN) {
    return verdict(st, VIGIL_VERDICT_DROP_UNKNOWN_VLAN, bytes, XDP_DROP);
  }
  const int v4 = p.l3_proto == ETH_P_IP;
  const int bare_syn = is_bare_syn(&p);

  /* A packet to a VIP looks for its connection before the policy when there is policy to
   * skip: a connection made or refreshed under the current policy generation remembers what
   * the ACL and rate-limit lookups found. Bare SYNs look after the policy, as every packet did
   * before: they start flows, so they rarely find one, and a SYN flood from denied sources
   * should meet the ACL without paying for a connection lookup first. */
  struct vip_match match = {};
  int to_vip = 0;
  int looked = 0;
  struct vigil_flow_key flow = {};
  const __u8 policy_tries = v4 ? (VIGIL_TRIE_ACL4 | VIGIL_TRIE_RATE4)
                               : (VIGIL_TRIE_ACL6 | VIGIL_TRIE_RATE6);
  if ((vigil_features & VIGIL_FEATURE_VIPS) && !p.later_fragment && !bare_syn &&
      (s->tries & policy_tries)) {
    looked = 1;
    to_vip = find_vip(&p, v4, &flow, &match);
  }
  const struct vigil_conn* conn = match.conn;
  struct flow_policy policy = {.acl_rule = VIGIL_POLICY_NONE, .policer = VIGIL_POLICY_NONE};
  if (conn && conn->policy_generation == s->policy_generation) {
    event(st, VIGIL_EVENT_POLICY_REMEMBERED);
    policy.acl_rule = conn->acl_rule;
    policy.policer = conn->policer;
    if ((vigil_features & VIGIL_FEATURE_ACL) && policy.acl_rule != VIGIL_POLICY_NONE &&
        acl_rule_denies(policy.acl_rule, bytes)) {
      return verdict(st, VIGIL_VERDICT_DROP_ACL, bytes, XDP_DROP);
    }
    const __u32 policer = policy.policer;
    if ((vigil_features & VIGIL_FEATURE_RATE_LIMIT) && policer != VIGIL_POLICY_NONE &&
        !police(&policer, bytes)) {
      return verdict(st, VIGIL_VERDICT_DROP_RATE_LIMIT, bytes, XDP_DROP);
    }
  } else {
    if ((vigil_features & VIGIL_FEATURE_ACL) && acl_denies(&p, s, v4, bytes, &policy.acl_rule)) {
      return verdict(st, VIGIL_VERDICT_DROP_ACL, bytes, XDP_DROP);
    }
    if ((vigil_features & VIGIL_FEATURE_RATE_LIMIT) &&
        !police_source(&p, s, v4, bytes, &policy.policer)) {
      return verdict(st, VIGIL_VERDICT_DROP_RATE_LIMIT, bytes, XDP_DROP);
    }
    if ((vigil_features & VIGIL_FEATURE_SYN_LIMIT) && bare_syn && !police_syn(&p, s, v4, bytes)) {
      return verdict(st, VIGIL_VERDICT_DROP_SYN_LIMIT, bytes, XDP_DROP);
    }
  }
  /* Broadcast and multicast frames and VLAN sub-interfaces are the kernel's: never routed,
   * never a VIP's. */
  if (frame == VIGIL_FRAME_GROUP) {
    return verdict(st, VIGIL_VERDICT_PASS_L2_GROUP, bytes, XDP_PASS);
  }
  if (frame == VIGIL_FRAME_VLAN) {
    return verdict(st, VIGIL_VERDICT_PASS_VLAN, bytes, XDP_PASS);
  }
  if (p.later_fragment) {
    if (s->later_fragments == VIGIL_ACTION_DROP) {
      return verdict(st, VIGIL_VERDICT_DROP_FRAGMENT, bytes, XDP_DROP);
    }
    /* A VIP's datagram: its first fragment's ports, and on as the VIP packet it is. */
    if (!((vigil_features & VIGIL_FEATURE_VIPS) && vigil_vip_fragment_ports(st, &p))) {
      return steer_later_fragment(ctx, st, &p, s, v4, bytes);
    }
  }
  if (is_multicast_or_link_local(&p, v4)) {
    return verdict(st, VIGIL_VERDICT_PASS_MULTICAST, bytes, XDP_PASS); /* ND, DHCP, routing */
  }
  if (p.l4_unknown) {
    return steer_unwalked(ctx, st, &p, s, v4, bytes);
  }
  if ((vigil_features & VIGIL_FEATURE_VIPS) && !looked) {
    to_vip = find_vip(&p, v4, &flow, &match);
  }
  if (to_vip && vigil_is_martian(&p, allow_martians)) {
    return verdict(st, VIGIL_VERDICT_DROP_MARTIAN, bytes, XDP_DROP); /* never encapsulated */
  }
  if (to_vip) {
    if (p.is_fragment && !p.later_fragment) {
      remember_vip_fragment(&p);
    }
    const int refresh = match.conn && match.conn->policy_generation != s->policy_generation;
    return forward_to_vip(ctx, st, &p, &match, &flow, &policy, refresh, s, v4, bytes);
  }
  if (vigil_features & VIGIL_FEATURE_STEERING) {
    return steer(ctx, st, &p, s, v4, bytes);
  }
  return default_verdict(st, s, bytes);
}

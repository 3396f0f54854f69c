/* The XDP classifier: the first thing every packet meets on a Vigil port.
 *
 *   parse ─► VIP? its connection ─► ACL ─► per-source rate limit ─► SYN limit
 *         ─► later fragments ─► multicast
 *         ─► L4 VIP: the connection's backend or Maglev, then IPIP/GUE to the backend (XDP_TX)
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
 * are unit-tested and fuzzed on the host; this file is the glue between them and the maps. */
#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>

#include "vigil/acl.h"
#include "vigil/classifier_types.h"
#include "vigil/encap.h"
#include "vigil/checksum.h"
#include "vigil/hash.h"
#include "vigil/offload.h"
#include "vigil/parse.h"
#include "vigil/policer.h"
#include "vigil/vip_filter.h"

/* The project's licence; the program calls no GPL-only helper. */
char LICENSE[] SEC("license") = "Apache-2.0";

/* Set by the loader before load; the verifier prunes what is switched off. */
const volatile __u32 vigil_features = VIGIL_FEATURE_ALL;
/* Sets of the connection table per CPU, a power of two (the loader sizes `conns` to match). */
const volatile __u32 vigil_conn_sets = VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS;

#define VIGIL_ARRAY(name, kind, entries, value_type) \
  struct {                                          \
    __uint(type, kind);                             \
    __uint(max_entries, entries);                   \
    __type(key, __u32);                             \
    __type(value, value_type);                      \
  } name SEC(".maps")

#define VIGIL_LPM(name, key_type, value_type)  \
  struct {                                     \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);       \
    __uint(max_entries, VIGIL_MAX_PREFIXES);   \
    __uint(map_flags, BPF_F_NO_PREALLOC);      \
    __type(key, key_type);                     \
    __type(value, value_type);                 \
  } name SEC(".maps")

VIGIL_ARRAY(settings, BPF_MAP_TYPE_ARRAY, 1, struct vigil_settings);
/* Every packet's own counters (verdict, events, parse failure, VIP and backend): one per-CPU
 * record, looked up once per packet; a count is then one add at an offset. */
VIGIL_ARRAY(stats, BPF_MAP_TYPE_PERCPU_ARRAY, 1, struct vigil_stats);
/* The loader's alone: where a VIP or backend index started counting anew (struct vigil_stats). */
VIGIL_ARRAY(counter_bases, BPF_MAP_TYPE_ARRAY, VIGIL_COUNTER_BASES, struct vigil_counter);

VIGIL_LPM(acl_src4, struct vigil_lpm4_key, struct vigil_acl_mask);
VIGIL_LPM(acl_dst4, struct vigil_lpm4_key, struct vigil_acl_mask);
VIGIL_LPM(acl_src6, struct vigil_lpm6_key, struct vigil_acl_mask);
VIGIL_LPM(acl_dst6, struct vigil_lpm6_key, struct vigil_acl_mask);
VIGIL_ARRAY(acl_actions, BPF_MAP_TYPE_ARRAY, VIGIL_ACL_MAX_RULES, __u32);
VIGIL_ARRAY(acl_stats, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_ACL_MAX_RULES, struct vigil_counter);

VIGIL_LPM(rate_src4, struct vigil_lpm4_key, __u32);
VIGIL_LPM(rate_src6, struct vigil_lpm6_key, __u32);
VIGIL_LPM(syn_dst4, struct vigil_lpm4_key, __u32);
VIGIL_LPM(syn_dst6, struct vigil_lpm6_key, __u32);
VIGIL_ARRAY(policers, BPF_MAP_TYPE_ARRAY, VIGIL_MAX_POLICERS, struct vigil_policer);
VIGIL_ARRAY(buckets, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_MAX_POLICERS, struct vigil_bucket);
VIGIL_ARRAY(policer_stats, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_MAX_POLICERS,
            struct vigil_policer_counter);

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VIGIL_MAX_VIPS);
  __type(key, struct vigil_vip_key);
  __type(value, struct vigil_vip);
} vips SEC(".maps");
VIGIL_ARRAY(vip_filter, BPF_MAP_TYPE_ARRAY, VIGIL_VIP_FILTER_WORDS, __u64);
VIGIL_ARRAY(maglev, BPF_MAP_TYPE_ARRAY, VIGIL_MAGLEV_PAIRS, struct vigil_maglev_pair);
VIGIL_ARRAY(backends, BPF_MAP_TYPE_ARRAY, VIGIL_MAX_BACKENDS, struct vigil_backend);

/* Established flows keep their backend: every CPU's connection table, sets of
 * VIGIL_CONN_WAYS connections (struct vigil_conn_set); the loader sizes it for the CPUs. */
VIGIL_ARRAY(conns, BPF_MAP_TYPE_ARRAY, VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS,
            struct vigil_conn_set);

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VIGIL_MAX_LOCAL_ADDRESSES);
  __type(key, struct vigil_local_address_key);
  __type(value, __u32);
} local_addresses SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VIGIL_MAX_LOCAL_PORTS);
  __type(key, struct vigil_local_port_key);
  __type(value, __u32); /* enum vigil_action: PASS to the kernel or FAST_PATH */
} local_ports SEC(".maps");

/* The fast path's AF_XDP sockets, by RX queue. The name is the one DPDK's af_xdp PMD expects. */
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, VIGIL_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

/* Transit flows vigil-dp has routed and handed down (struct vigil_offload); vigil-dp alone
 * writes them, under the generation in offload_state. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, VIGIL_MAX_OFFLOADED_FLOWS);
  __type(key, struct vigil_offload_key);
  __type(value, struct vigil_offload);
} offloaded_flows SEC(".maps");
VIGIL_ARRAY(offload_state, BPF_MAP_TYPE_ARRAY, 1, struct vigil_offload_state);
/* The devices offloaded flows leave by, keyed by ifindex: only those vigil-dp found able to
 * send redirected frames (the kernel's NETDEV_XDP_ACT_NDO_XMIT). */
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, VIGIL_MAX_OFFLOAD_PORTS);
  __type(key, __u32);
  __type(value, __u32);
} offload_ports SEC(".maps");
/* What offloaded flows sent, by vigil-dp's egress port id (received: the verdict's count). */
VIGIL_ARRAY(offload_tx, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_MAX_OFFLOAD_PORTS, struct vigil_counter);

/* ---- counting -------------------------------------------------------------------------- */

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

/* ---- policy ---------------------------------------------------------------------------- */

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
static __always_inline int acl_denies(const struct vigil_packet* p,
                                      const struct vigil_settings* s, int v4, __u64 bytes,
                                      __u16* matched) {
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

static __always_inline int police_syn(const struct vigil_packet* p,
                                      const struct vigil_settings* s, int v4, __u64 bytes) {
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

static __always_inline int is_bare_syn(const struct vigil_packet* p) {
  const __u8 syn = 0x02;
  const __u8 ack = 0x10;
  return p->l4_proto == IPPROTO_TCP && (p->tcp_flags & (syn | ack)) == syn;
}

static __always_inline int is_multicast_or_link_local(const struct vigil_packet* p, int v4) {
  if (v4) {
    const __u8 first = ((const __u8*)&p->dst.v4)[0];
    return (first & 0xf0) == 0xe0 || p->dst.v4 == 0xffffffffu;
  }
  return p->dst.v6[0] == 0xff || (p->dst.v6[0] == 0xfe && (p->dst.v6[1] & 0xc0) == 0x80);
}

/* ---- rewriting the frame --------------------------------------------------------------- */

/* The most L2 the parser accepts: Ethernet and two VLAN tags. */
#define VIGIL_MAX_L2 22

/* Copies the frame's L2 header (with its VLAN tags) `moved` bytes back to the new start, after
 * bpf_xdp_adjust_head() made room. VIGIL_MAX_L2 bytes always move: any beyond the real header
 * land where the caller writes its own header next. The caller re-reads ctx->data after. */
static __always_inline int move_l2(struct xdp_md* ctx, __u32 moved, __u8 old_l2[VIGIL_MAX_L2]) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + moved + VIGIL_MAX_L2 > end || data + VIGIL_MAX_L2 > end || moved > 64) {
    return -1;
  }
  __builtin_memcpy(old_l2, data + moved, VIGIL_MAX_L2);
  __builtin_memcpy(data, old_l2, VIGIL_MAX_L2);
  return 0;
}

/* The ethertype in front of L3; `data` has VIGIL_MAX_L2 bytes checked. Constant offsets, which
 * the verifier follows without a range per pointer. */
static __always_inline void set_ethertype(void* data, __u32 l2, __u16 ethertype) {
  const __be16 value = vigil_htons(ethertype);
  if (l2 == ETH_HLEN) {
    *(__be16*)(data + 12) = value;
  } else if (l2 == ETH_HLEN + 4) {
    *(__be16*)(data + 16) = value;
  } else {
    *(__be16*)(data + 20) = value;
  }
}

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
  if (bpf_xdp_adjust_tail(ctx, (int)(l2 + quote) - (int)bytes) ||
      bpf_xdp_adjust_head(ctx, -room)) {
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
  const __u8 tail[8] = {0, 0, VIGIL_ICMP6_PAYLOAD >> 8, VIGIL_ICMP6_PAYLOAD & 0xff,
                        0, 0, 0, IPPROTO_ICMPV6};
  __u64 sum = vigil_csum_add(&ip6->saddr, 16, 0);
  sum = vigil_csum_add(tail, 4, sum);
  sum = vigil_csum_add(icmp6, VIGIL_ICMP6_PAYLOAD / 2, sum);
  icmp6->icmp6_cksum = vigil_csum_fold(sum);
  return verdict(st, VIGIL_VERDICT_TX_ICMP_TOO_BIG, bytes, XDP_TX);
}

/* Prepends the outer header(s) toward `be` (whose `family` and `encap` the caller passes) and
 * sends the frame back out to the gateway. */
static __always_inline int encapsulate(struct xdp_md* ctx, struct vigil_stats* st,
                                       const struct vigil_packet* p,
                                       const struct vigil_settings* s,
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

/* ---- L4 VIPs --------------------------------------------------------------------------- */

static __always_inline void flow_key(struct vigil_flow_key* k, const struct vigil_packet* p,
                                     int v4) {
  __builtin_memcpy(k->src, p->src.v6, 16); /* for IPv4 the rest of the union is zero */
  __builtin_memcpy(k->dst, p->dst.v6, 16);
  k->sport = p->sport;
  k->dport = p->dport;
  k->proto = p->l4_proto;
  k->family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6;
}

/* 0 when no VIP has the packet's destination address: its bit in vip_filter is clear. */
static __always_inline int maybe_vip(const struct vigil_packet* p) {
  const __u32 bit = vigil_vip_filter_bit(p->dst.v6);
  const __u32 word = bit / 64;
  const __u64* bits = bpf_map_lookup_elem(&vip_filter, &word);
  return bits && (*bits >> (bit % 64)) & 1;
}

/* What a packet is to the VIPs: its set of the connection table and its connection there, if
 * any; that connection's backend while it is still valid (a hit, which needs nothing else: the
 * backend entry names its VIP and the encapsulation); otherwise its VIP entry, if its
 * destination is a VIP. */
struct vip_match {
  struct vigil_conn_set* set;
  __u32 way;  /* of `conn` in `set` */
  __u32 tag;  /* vigil_conn_hash(): the set and the tag of the flow's way */
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
    const int way = way_holds(&m->set->way[0], flow, m->tag)
                        ? 0
                        : vigil_conn_find(m->set, flow, m->tag);
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
  struct vigil_vip_key k = {.port = p->dport,
                            .proto = p->l4_proto,
                            .family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6};
  __builtin_memcpy(k.addr, p->dst.v6, 16);
  m->vip = bpf_map_lookup_elem(&vips, &k);
  return m->vip != 0;
}

/* What one packet's policy lookups found, to be remembered in its connection. */
struct flow_policy {
  __u16 acl_rule;
  __u16 policer;
};

/* Writes the flow's connection: over its old one (stale, or remembering an old policy), else
 * into an empty way, else over the set's last way. The table is this CPU's alone. */
static __always_inline void remember(struct vigil_stats* st, const struct vip_match* m,
                                     const struct vigil_flow_key* k,
                                     __u32 backend, __u32 generation, __u32 hash,
                                     const struct flow_policy* policy, __u32 policy_generation) {
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
                                          const struct vigil_packet* p,
                                          const struct vip_match* m,
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
  const __u32 overhead = (be->family == VIGIL_FAMILY_IPV4 ? sizeof(struct iphdr)
                                                          : sizeof(struct ipv6hdr)) +
                         (be->encap == VIGIL_ENCAP_GUE ? sizeof(struct udphdr) : 0);
  if (p->l3_length + overhead > s->encap_mtu) {
    const __u32 inner_mtu = s->encap_mtu - overhead;
    if (!v4) {
      return icmp6_too_big(ctx, st, p, l2, inner_mtu, bytes);
    }
    if (p->dont_fragment) {
      return icmp4_too_big(ctx, st, p, l2, (__u16)inner_mtu, bytes);
    }
    /* XDP cannot fragment, and the sender did not ask to be told. */
    return verdict(st, VIGIL_VERDICT_DROP_VIP_TOO_BIG, bytes, XDP_DROP);
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

/* ---- steering -------------------------------------------------------------------------- */

static __always_inline int to_fast_path(struct xdp_md* ctx, struct vigil_stats* st,
                                        __u64 bytes) {
  __u32 queue = ctx->rx_queue_index;
  if (bpf_map_lookup_elem(&xsks_map, &queue)) {
    add(&st->verdict[VIGIL_VERDICT_REDIRECT_FAST_PATH], bytes);
    return bpf_redirect_map(&xsks_map, queue, XDP_PASS);
  }
  /* vigil-dp is down or restarting: the kernel gets the packet rather than nobody. */
  return verdict(st, VIGIL_VERDICT_PASS_FAST_PATH_DOWN, bytes, XDP_PASS);
}

/* Forwards a packet of an offloaded flow as vigil-dp would have: TTL or hop limit down by one
 * (IPv4's checksum patched), the next hop's and the egress port's MACs, out of the egress
 * device. Anything else about it that needs vigil-dp (an expired TTL to answer, a packet too
 * big for the egress, a stale entry) sends it there: -1, the packet untouched.
 *
 * A global function, so the verifier checks it once on its own rather than once for every
 * path that reaches it: inlined, it took the program past the verifier's million steps. */
__noinline int vigil_forward_offloaded(struct xdp_md* ctx, struct vigil_stats* st,
                                       const struct vigil_packet* p, int v4, __u64 bytes) {
  if (!ctx || !st || !p || !vigil_offload_eligible(p)) {
    return -1;
  }
  const __u32 zero = 0;
  const struct vigil_offload_state* state = bpf_map_lookup_elem(&offload_state, &zero);
  if (!state || state->generation == 0) {
    return -1;
  }
  struct vigil_offload_key k;
  vigil_offload_key_of(p, &k);
  const struct vigil_offload* f = bpf_map_lookup_elem(&offloaded_flows, &k);
  if (!f) {
    return -1;
  }
  if (f->generation != state->generation) {
    event(st, VIGIL_EVENT_OFFLOAD_STALE);
    return -1;
  }
  if (p->l3_length > f->mtu) {
    return -1;
  }
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  struct iphdr* ip4 = data + ETH_HLEN;
  struct ipv6hdr* ip6 = data + ETH_HLEN;
  if (v4 ? (void*)(ip4 + 1) > end : (void*)(ip6 + 1) > end) {
    return -1;
  }
  if ((v4 ? ip4->ttl : ip6->hop_limit) <= 1) {
    return -1;
  }
  /* The redirect first: a device that left offload_ports leaves the packet as it came. */
  if (bpf_redirect_map(&offload_ports, f->out_ifindex, 0) != XDP_REDIRECT) {
    return -1;
  }
  if (v4) {
    const __u16 old_word = *(__u16*)&ip4->ttl; /* TTL and protocol share a summed word */
    ip4->ttl--;
    ip4->check = vigil_csum_replace(ip4->check, old_word, *(__u16*)&ip4->ttl);
  } else {
    ip6->hop_limit--;
  }
  __builtin_memcpy(eth->h_dest, f->dst_mac, ETH_ALEN);
  __builtin_memcpy(eth->h_source, f->src_mac, ETH_ALEN);
  if (f->out_port < VIGIL_MAX_OFFLOAD_PORTS) {
    count(&offload_tx, f->out_port, bytes);
  }
  return verdict(st, VIGIL_VERDICT_REDIRECT_OFFLOADED, bytes, XDP_REDIRECT);
}

static __always_inline int to_transit(struct xdp_md* ctx, struct vigil_stats* st,
                                      const struct vigil_packet* p,
                                      const struct vigil_settings* s, int v4, __u64 bytes) {
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

static __always_inline int steer(struct xdp_md* ctx, struct vigil_stats* st,
                                 const struct vigil_packet* p,
                                 const struct vigil_settings* s, int v4, __u64 bytes) {
  struct vigil_local_address_key a = {.family = v4 ? VIGIL_FAMILY_IPV4 : VIGIL_FAMILY_IPV6};
  __builtin_memcpy(a.addr, p->dst.v6, 16);
  if (!bpf_map_lookup_elem(&local_addresses, &a)) {
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

/* ---- the program ----------------------------------------------------------------------- */

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
  if (p.later_fragment) {
    /* No ports to classify on; the kernel reassembles what is for the box. */
    if (s->later_fragments == VIGIL_ACTION_DROP) {
      return verdict(st, VIGIL_VERDICT_DROP_FRAGMENT, bytes, XDP_DROP);
    }
    return verdict(st, VIGIL_VERDICT_PASS_LATER_FRAGMENT, bytes, XDP_PASS);
  }
  if (is_multicast_or_link_local(&p, v4)) {
    return verdict(st, VIGIL_VERDICT_PASS_MULTICAST, bytes, XDP_PASS); /* ND, DHCP, routing */
  }
  if ((vigil_features & VIGIL_FEATURE_VIPS) && !looked) {
    to_vip = find_vip(&p, v4, &flow, &match);
  }
  if (to_vip) {
    const int refresh = match.conn && match.conn->policy_generation != s->policy_generation;
    return forward_to_vip(ctx, st, &p, &match, &flow, &policy, refresh, s, v4, bytes);
  }
  if (vigil_features & VIGIL_FEATURE_STEERING) {
    return steer(ctx, st, &p, s, v4, bytes);
  }
  return default_verdict(st, s, bytes);
}

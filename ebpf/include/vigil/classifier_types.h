/* The XDP classifier's maps as seen from both sides: key and value layouts, sizes, verdicts
 * and counter names. Shared by the BPF program (classifier.bpf.c), its host-side helpers and
 * the C++ loader, so a layout is declared once. Plain C. The capacities the config promises
 * come from config/capacities.h. A size overridden with -D must be overridden for the BPF objects
 * and the C++ code alike: the loader uses these numbers, not sizes read back from the maps. */
#ifndef VIGIL_CLASSIFIER_TYPES_H
#define VIGIL_CLASSIFIER_TYPES_H

#include <linux/types.h>

#include "config/capacities.h" /* VIGIL_MAX_VIPS, VIGIL_ACL_MAX_RULES, ... */
#include "vigil/compat.h"
#include "vigil/packet.h"

/* ---- sizes ----------------------------------------------------------------------------- */
/* Maglev lookup table size per VIP: a prime well above 100 x the backend count (Maglev §3.4). */
#ifndef VIGIL_MAGLEV_RING_SIZE
#define VIGIL_MAGLEV_RING_SIZE 65537
#endif
/* One table per VIP plus one spare: a new table is written into a free slot and the VIP is
 * switched to it in one map update, so a lookup never sees a half-written table. */
#define VIGIL_MAGLEV_SLOTS (VIGIL_MAX_VIPS + 1)
/* Array elements take 8 bytes each however small the value, so entries are stored in pairs;
 * each table starts on an even position (stride = size + 1) so no pair spans two tables. */
#define VIGIL_MAGLEV_STRIDE (VIGIL_MAGLEV_RING_SIZE + 1)
#define VIGIL_MAGLEV_PAIRS (VIGIL_MAGLEV_SLOTS * VIGIL_MAGLEV_STRIDE / 2)
/* Connections tracked in all, split evenly over the CPUs (each CPU has its own table). */
#ifndef VIGIL_CONN_TABLE_SIZE
#define VIGIL_CONN_TABLE_SIZE 65536
#endif
#define VIGIL_CONN_WAYS 4 /* connections per set of the table */
#define VIGIL_ACL_WORDS ((VIGIL_ACL_MAX_RULES + 63) / 64)
#ifndef VIGIL_MAX_PREFIXES
#define VIGIL_MAX_PREFIXES 4096 /* per LPM trie */
#endif
#ifndef VIGIL_MAX_QUEUES
#define VIGIL_MAX_QUEUES 64
#endif
/* Transit flows the classifier forwards by itself, per port (least recently used go first). */
#ifndef VIGIL_MAX_OFFLOADED_FLOWS
#define VIGIL_MAX_OFFLOADED_FLOWS 65536
#endif
/* Fast path ports an offloaded flow can leave by (vigil-dp's port ids below this). */
#ifndef VIGIL_MAX_OFFLOAD_PORTS
#define VIGIL_MAX_OFFLOAD_PORTS 64
#endif

/* ---- feature switches (rodata, set by the loader before load) -------------------------- */
#define VIGIL_FEATURE_ACL (1u << 0)
#define VIGIL_FEATURE_RATE_LIMIT (1u << 1)
#define VIGIL_FEATURE_SYN_LIMIT (1u << 2)
#define VIGIL_FEATURE_VIPS (1u << 3)
#define VIGIL_FEATURE_STEERING (1u << 4)
#define VIGIL_FEATURE_OFFLOAD (1u << 5)
#define VIGIL_FEATURE_ALL 0x3fu

/* ---- verdicts: every packet is counted under exactly one ------------------------------- */
#define VIGIL_VERDICTS(X)                                         \
  X(PASS_NOT_IP, "pass_not_ip")                                   \
  X(PASS_MULTICAST, "pass_multicast_or_link_local")               \
  X(PASS_LOCAL_SERVICE, "pass_local_service")                     \
  X(PASS_DEFAULT, "pass_default_policy")                          \
  X(PASS_FAST_PATH_DOWN, "pass_fast_path_down")                   \
  X(PASS_UNCONFIGURED, "pass_unconfigured")                       \
  X(PASS_LATER_FRAGMENT, "pass_later_fragment")                   \
  X(PASS_L2_GROUP, "pass_l2_broadcast_multicast")                 \
  X(PASS_VLAN, "pass_vlan_subinterface")                          \
  X(REDIRECT_FAST_PATH, "redirect_fast_path")                     \
  X(REDIRECT_OFFLOADED, "redirect_offloaded_flow")                \
  X(TX_VIP, "tx_vip_encapsulated")                                \
  X(TX_ICMP_TOO_BIG, "tx_icmp_too_big")                           \
  X(DROP_MALFORMED, "drop_malformed")                             \
  X(DROP_OTHER_HOST, "drop_other_host")                           \
  X(DROP_UNKNOWN_VLAN, "drop_unknown_vlan")                       \
  X(DROP_MARTIAN, "drop_martian")                                 \
  X(DROP_ACL, "drop_acl")                                         \
  X(DROP_RATE_LIMIT, "drop_rate_limit")                           \
  X(DROP_SYN_LIMIT, "drop_syn_limit")                             \
  X(DROP_FRAGMENT, "drop_later_fragment")                         \
  X(DROP_DEFAULT, "drop_default_policy")                          \
  X(DROP_VIP_NO_BACKEND, "drop_vip_no_backend")                   \
  X(DROP_VIP_TOO_BIG, "drop_vip_too_big_without_df")              \
  X(DROP_VIP_TOO_BIG_UNANSWERED, "drop_vip_too_big_icmp_limited") \
  X(DROP_VIP_ENCAP_FAILED, "drop_vip_encap_failed")

enum vigil_verdict {
#define VIGIL_X(name, text) VIGIL_VERDICT_##name,
  VIGIL_VERDICTS(VIGIL_X)
#undef VIGIL_X
      VIGIL_VERDICT_COUNT
};

/* Events that are not verdicts: one packet may count several, or none. */
#define VIGIL_EVENTS(X)                              \
  X(CONN_HIT, "vip_connection_hit")                  \
  X(CONN_MISS, "vip_connection_miss")                \
  X(CONN_STALE, "vip_connection_stale")              \
  X(CONN_EVICTED, "vip_connection_evicted")          \
  X(POLICY_REMEMBERED, "vip_policy_from_connection") \
  X(OFFLOAD_STALE, "offloaded_flow_stale")           \
  X(VIP_FRAGMENT_MATCHED, "vip_fragment_matched")    \
  X(VIP_FRAGMENT_UNMATCHED, "vip_fragment_unmatched")

enum vigil_event {
#define VIGIL_X(name, text) VIGIL_EVENT_##name,
  VIGIL_EVENTS(VIGIL_X)
#undef VIGIL_X
      VIGIL_EVENT_COUNT
};

/* ---- values ---------------------------------------------------------------------------- */
#define VIGIL_FAMILY_IPV4 4
#define VIGIL_FAMILY_IPV6 6

enum vigil_action { VIGIL_ACTION_PASS = 1, VIGIL_ACTION_DROP = 2, VIGIL_ACTION_FAST_PATH = 3 };

enum vigil_encap { VIGIL_ENCAP_IPIP = 1, VIGIL_ENCAP_GUE = 2 };

struct vigil_counter {
  __u64 packets;
  __u64 bytes;
};

/* stats[0], per CPU: each packet's verdict, its events and, if malformed, why; a VIP packet's
 * VIP and backend. Events count packets only (`bytes` stays zero). One record, so the program
 * looks it up once per packet and each count is an add at an offset (separate per-VIP and
 * per-backend arrays cost a VIP hit about 3 ns, measured). The program only ever adds to it:
 * where an index starts counting for a new VIP or backend, the loader records what it holds in
 * counter_bases and subtracts that on reading, since writing the record would lose the adds
 * made meanwhile to everything else in it. */
struct vigil_stats {
  struct vigil_counter verdict[VIGIL_VERDICT_COUNT];
  struct vigil_counter event[VIGIL_EVENT_COUNT];
  struct vigil_counter malformed[VIGIL_PARSE_RESULT_COUNT];
  struct vigil_counter vip[VIGIL_MAX_VIPS];
  struct vigil_counter backend[VIGIL_MAX_BACKENDS];
};

/* The kernel allocates a per-CPU value in one piece of at most 32 KiB (PCPU_MIN_UNIT_SIZE):
 * VIGIL_MAX_VIPS and VIGIL_MAX_BACKENDS together may not outgrow it. */
VIGIL_STATIC_ASSERT(sizeof(struct vigil_stats) <= 32768,
                    "struct vigil_stats must fit a per-CPU value (32 KiB): fewer VIPs or backends");

/* counter_bases: the summed counts an index held when it started counting anew, VIPs first
 * (by VIP index), then backends (VIGIL_COUNTER_BASE_BACKEND + backend index). */
#define VIGIL_COUNTER_BASE_BACKEND VIGIL_MAX_VIPS
#define VIGIL_COUNTER_BASES (VIGIL_MAX_VIPS + VIGIL_MAX_BACKENDS)

/* settings[0]: what the loader configured; absent until the first apply, when every packet
 * passes (so attaching before configuring never cuts a box off). */
struct vigil_settings {
  __u32 hash_seed;      /* the same on every appliance, so two boxes pick alike */
  __u8 default_action;  /* PASS or DROP: traffic no rule, VIP or service claims */
  __u8 later_fragments; /* PASS or DROP: non-first fragments (no ports to classify on) */
  __u8 steer_transit;   /* 1: traffic not addressed to the box goes to the fast path */
  __u8 tries;           /* VIGIL_TRIE_*: which LPM tries hold anything (skip the rest) */
  __u16 encap_mtu;      /* largest L3 packet toward the backends, outer header included */
  __be16 gue_port;      /* destination UDP port of GUE encapsulation */
  __u8 gateway_mac[6];  /* next hop for encapsulated packets */
  __u16 pad1;
  __be32 encap_src4;         /* outer IPv4 source: this prefix ... */
  __u32 encap_src4_hostmask; /* ... with these bits (host order) taken from the flow hash */
  __u8 encap_src6[16];       /* outer IPv6 source, low 32 bits under the mask from the hash */
  __u32 encap_src6_hostmask;
  /* Bumped by the loader after it changed any ACL or rate-limit map: a connection remembers
   * its flow's policy lookups under the generation it made them in (struct vigil_conn). */
  __u32 policy_generation;
};

#define VIGIL_TRIE_ACL4 (1u << 0)
#define VIGIL_TRIE_ACL6 (1u << 1)
#define VIGIL_TRIE_RATE4 (1u << 2)
#define VIGIL_TRIE_RATE6 (1u << 3)
#define VIGIL_TRIE_SYN4 (1u << 4)
#define VIGIL_TRIE_SYN6 (1u << 5)

struct vigil_maglev_pair {
  __u32 backend[2];
};

struct vigil_lpm4_key {
  __u32 prefixlen;
  __u8 addr[4];
};

struct vigil_lpm6_key {
  __u32 prefixlen;
  __u8 addr[16];
};

/* ACL: the source trie and the destination trie each map a prefix to the set of rules that
 * match every address under it; a packet's rules are the intersection, the first one wins. */
struct vigil_acl_mask {
  __u64 words[VIGIL_ACL_WORDS];
};

/* Token buckets, in nano-tokens (1e9 per packet or per byte) so refilling needs no division:
 * tokens += elapsed_ns * rate. fill_ns = burst / rate: past it the bucket is full. A rate of
 * 0 leaves that dimension unlimited. */
struct vigil_policer {
  __u64 packet_rate; /* packets per second */
  __u64 packet_burst;
  __u64 packet_fill_ns;
  __u64 byte_rate; /* bytes per second */
  __u64 byte_burst;
  __u64 byte_fill_ns;
};

struct vigil_bucket {
  __u64 last_ns;
  __u64 packet_tokens;
  __u64 byte_tokens;
};

struct vigil_policer_counter {
  __u64 passed_packets;
  __u64 passed_bytes;
  __u64 dropped_packets;
  __u64 dropped_bytes;
};

struct vigil_vip_key {
  __u8 addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
  __be16 port;
  __u8 proto;
  __u8 family;
};

struct vigil_vip {
  __u32 index; /* of its counters in struct vigil_stats */
  __u32 ring;  /* Maglev slot in use */
  __u8 encap;  /* enum vigil_encap */
  __u8 pad[3];
};

/* One backend of one VIP (the same address under two VIPs is two entries, so removing it from
 * one VIP moves that VIP's flows only). */
struct vigil_backend {
  __u8 addr[16];
  __u8 family;
  __u8 active;      /* 0: removed; connections pinned to it pick again */
  __u16 vip;        /* the VIP's index: its counters, and a restarted loader's state */
  __u32 generation; /* bumped when the index is reused, so old connections do not follow */
  __u8 encap;       /* enum vigil_encap, the VIP's: a connection hit needs no VIP entry */
  __u8 pad[3];
};

/* Eight-byte aligned: the program compares keys as five 64-bit words. */
struct vigil_flow_key {
  __u8 src[16];
  __u8 dst[16];
  __be16 sport;
  __be16 dport;
  __u8 proto;
  __u8 family; /* 0: an empty way of the connection table */
  __u16 pad;
} __attribute__((aligned(8)));

/* What a VIP flow's packets have in common, so the packets after the first skip the lookups:
 * the backend, the flow hash its outer source address and port come from, and the flow's
 * policy lookups (the ACL rule that matched, the source's policer) as of policy_generation.
 * Each packet is still counted under that rule and charged to that policer; only the trie
 * lookups are saved. Bare SYNs do not use the policy (the SYN limit is per packet kind, not
 * per flow). */
#define VIGIL_POLICY_NONE 0xffffu /* no ACL rule matched / no policer applies */
struct vigil_conn {
  __u32 backend;
  __u32 generation;
  __u32 policy_generation;
  __u16 acl_rule;
  __u16 policer;
  __u32 flow_hash; /* vigil_flow_hash() of the first packet: one flow, one outer source */
};

/* The connection table: per CPU (a flow stays on its receive queue, so on one CPU), a
 * set-associative cache in a plain array, which the program reads and writes without a
 * helper call or a lock: CPU c's sets are elements [c * sets, (c + 1) * sets), a flow's set
 * is vigil_conn_hash() modulo the set count, and within a set a hit moves the connection one
 * way up and a new one takes an empty way or evicts the last, so flows that keep sending stay
 * above flows that sent once (a SYN flood evicts itself). `tag` is that hash, compared before
 * the key. One way is one cache line. */
struct vigil_conn_way {
  struct vigil_flow_key key;
  struct vigil_conn conn;
  __u32 tag;
};

struct vigil_conn_set {
  struct vigil_conn_way way[VIGIL_CONN_WAYS];
};

struct vigil_local_address_key {
  __u8 family;
  __u8 pad[3];
  __u8 addr[16];
};

struct vigil_local_port_key {
  __u8 proto;
  __u8 pad;
  __be16 port;
};

/* this_port[0]: the interface this instance of the program is attached to (one per interface), as
 * the loader last wrote it. Until `known`, the frame checks that need it are skipped. */
#define VIGIL_VLAN_WORDS (4096 / 64)
struct vigil_port {
  __u8 mac[6];
  __u8 known;
  __u8 allow_martians;           /* VIGIL_ALLOW_* (vigil/martian.h) */
  __u64 vlans[VIGIL_VLAN_WORDS]; /* its 802.1Q sub-interfaces, a bit per id: the kernel's */
};

/* A datagram to a VIP that came in fragments: its ports, from the first fragment, by what
 * every fragment carries (addresses, protocol, identification), so the later fragments go to
 * the first one's backend. */
#ifndef VIGIL_VIP_FRAGMENTS
#define VIGIL_VIP_FRAGMENTS 8192
#endif
struct vigil_fragment_key {
  __u8 family;
  __u8 proto;
  __u16 pad;
  __be32 id;
  __u8 src[16];
  __u8 dst[16];
};
struct vigil_fragment_ports {
  __be16 sport;
  __be16 dport;
};

/* ICMP errors the classifier sends, per CPU: a bucket per source it answers (icmp_sources) and
 * one for all (icmp_budget), struct vigil_credit_bucket in nanoseconds (vigil/credit_bucket.h),
 * as vigil-dp limits its own. */
struct vigil_icmp_source_key {
  __u8 family;
  __u8 pad[3];
  __u8 addr[16];
};
#define VIGIL_ICMP_SOURCES 4096
#define VIGIL_ICMP_SOURCE_INTERVAL_NS 100000000ull /* 10 a second from one source ... */
#define VIGIL_ICMP_SOURCE_BURST 20                 /* ... 20 at once */
#define VIGIL_ICMP_TOTAL_INTERVAL_NS 1000000ull    /* 1,000 a second in all ... */
#define VIGIL_ICMP_TOTAL_BURST 50                  /* ... 50 at once */

/* ---- flow offload ----------------------------------------------------------------------
 * vigil-dp routes a transit flow's first packets itself; then, for a TCP or UDP flow whose
 * forwarding needs nothing but a TTL decrement and a new Ethernet header, it writes what it
 * decided into the ingress port's offloaded_flows, and the classifier forwards the flow's
 * later packets on its own (XDP_REDIRECT through offload_ports) without AF_XDP or user space.
 * An entry holds while its generation is offload_state's: vigil-dp moves that on whenever a
 * route, a next hop's MAC or a port changes, which retires every entry at once. */
struct vigil_offload_key {
  __u8 family; /* VIGIL_FAMILY_IPV4 or _IPV6 */
  __u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
  __be16 sport;
  __be16 dport;
  __u16 pad;
  __u8 src[16]; /* IPv4 in the first 4 bytes, the rest zero */
  __u8 dst[16];
};

struct vigil_offload {
  __u32 generation;  /* valid while offload_state's generation is this */
  __u32 out_ifindex; /* the egress device, a key of offload_ports */
  __u16 mtu;         /* the egress port's IP MTU: larger packets go to vigil-dp */
  __u8 out_port;     /* vigil-dp's port id, the index in offload_tx */
  __u8 pad;
  __u8 dst_mac[6]; /* the next hop */
  __u8 src_mac[6]; /* the egress port */
};

/* offload_state[0]; generation 0: nothing is offloaded. */
struct vigil_offload_state {
  __u32 generation;
};

#endif /* VIGIL_CLASSIFIER_TYPES_H */

/* The XDP classifier's maps and the loader's switches, each with what it is for. The loader
 * (ebpf/loader/) reaches them through the skeleton by these names; BPF only. */
#ifndef VIGIL_CLASSIFIER_MAPS_H
#define VIGIL_CLASSIFIER_MAPS_H

#include "vigil/classifier_types.h"
#include "vigil/credit_bucket.h"
#include "vigil/offload.h"
#include "vigil/vip_filter.h"

/* Set by the loader before load; the verifier prunes what is switched off. */
const volatile __u32 vigil_features = VIGIL_FEATURE_ALL;
/* Sets of the connection table per CPU, a power of two (the loader sizes `conns` to match). */
const volatile __u32 vigil_conn_sets = VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS;

#define VIGIL_ARRAY(name, kind, entries, value_type) \
  struct {                                           \
    __uint(type, kind);                              \
    __uint(max_entries, entries);                    \
    __type(key, __u32);                              \
    __type(value, value_type);                       \
  } name SEC(".maps")

#define VIGIL_LPM(name, key_type, value_type) \
  struct {                                    \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);      \
    __uint(max_entries, VIGIL_MAX_PREFIXES);  \
    __uint(map_flags, BPF_F_NO_PREALLOC);     \
    __type(key, key_type);                    \
    __type(value, value_type);                \
  } name SEC(".maps")

/* The policy as a whole: default action, fragments, steering, encapsulation, tries in use. */
VIGIL_ARRAY(settings, BPF_MAP_TYPE_ARRAY, 1, struct vigil_settings);
/* Every packet's own counters (verdict, events, parse failure, VIP and backend): one per-CPU
 * record, looked up once per packet; a count is then one add at an offset. */
VIGIL_ARRAY(stats, BPF_MAP_TYPE_PERCPU_ARRAY, 1, struct vigil_stats);
/* The loader's alone: where a VIP or backend index started counting anew (struct vigil_stats). */
VIGIL_ARRAY(counter_bases, BPF_MAP_TYPE_ARRAY, VIGIL_COUNTER_BASES, struct vigil_counter);

/* ACL: per source and destination prefix, the set of rules that prefix matches. */
VIGIL_LPM(acl_src4, struct vigil_lpm4_key, struct vigil_acl_mask);
VIGIL_LPM(acl_dst4, struct vigil_lpm4_key, struct vigil_acl_mask);
VIGIL_LPM(acl_src6, struct vigil_lpm6_key, struct vigil_acl_mask);
VIGIL_LPM(acl_dst6, struct vigil_lpm6_key, struct vigil_acl_mask);
/* Each ACL rule's action (enum vigil_action), by rule index. */
VIGIL_ARRAY(acl_actions, BPF_MAP_TYPE_ARRAY, VIGIL_ACL_MAX_RULES, __u32);
/* What each ACL rule matched, per CPU. */
VIGIL_ARRAY(acl_stats, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_ACL_MAX_RULES, struct vigil_counter);

/* Rate limits by source prefix and SYN limits by destination prefix: the policer's index. */
VIGIL_LPM(rate_src4, struct vigil_lpm4_key, __u32);
VIGIL_LPM(rate_src6, struct vigil_lpm6_key, __u32);
VIGIL_LPM(syn_dst4, struct vigil_lpm4_key, __u32);
VIGIL_LPM(syn_dst6, struct vigil_lpm6_key, __u32);
/* Each policer's rates and bursts, by index. */
VIGIL_ARRAY(policers, BPF_MAP_TYPE_ARRAY, VIGIL_MAX_POLICERS, struct vigil_policer);
/* Each policer's token buckets, per CPU (no locks on the packet path). */
VIGIL_ARRAY(buckets, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_MAX_POLICERS, struct vigil_bucket);
/* What each policer passed and dropped, per CPU. */
VIGIL_ARRAY(policer_stats, BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_MAX_POLICERS,
            struct vigil_policer_counter);

/* The L4 VIPs by address, port and protocol: their index, Maglev slot and encapsulation. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VIGIL_MAX_VIPS);
  __type(key, struct vigil_vip_key);
  __type(value, struct vigil_vip);
} vips SEC(".maps");
/* A bit per hash of a VIP's address: most packets learn they are no VIP's without a lookup. */
VIGIL_ARRAY(vip_filter, BPF_MAP_TYPE_ARRAY, VIGIL_VIP_FILTER_WORDS, __u64);
/* Maglev lookup tables, one per slot, backend indices stored in pairs. */
VIGIL_ARRAY(maglev, BPF_MAP_TYPE_ARRAY, VIGIL_MAGLEV_PAIRS, struct vigil_maglev_pair);
/* Backends by index: address, VIP, generation (a reused index is a new backend). */
VIGIL_ARRAY(backends, BPF_MAP_TYPE_ARRAY, VIGIL_MAX_BACKENDS, struct vigil_backend);

/* Established flows keep their backend: every CPU's connection table, sets of
 * VIGIL_CONN_WAYS connections (struct vigil_conn_set); the loader sizes it for the CPUs. */
VIGIL_ARRAY(conns, BPF_MAP_TYPE_ARRAY, VIGIL_CONN_TABLE_SIZE / VIGIL_CONN_WAYS,
            struct vigil_conn_set);

/* The ports of fragmented datagrams to VIPs, by fragment identity (shared by all CPUs: a NIC
 * may hash a first fragment, which has ports, to another queue than the rest). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, VIGIL_VIP_FRAGMENTS);
  __type(key, struct vigil_fragment_key);
  __type(value, struct vigil_fragment_ports);
} vip_fragments SEC(".maps");

/* The interface this instance runs on: its MAC, VLANs and allowed martians (struct vigil_port). */
VIGIL_ARRAY(this_port, BPF_MAP_TYPE_ARRAY, 1, struct vigil_port);

/* ICMP errors the classifier sends: per source and in all, per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, VIGIL_ICMP_SOURCES);
  __type(key, struct vigil_icmp_source_key);
  __type(value, struct vigil_credit_bucket);
} icmp_sources SEC(".maps");
VIGIL_ARRAY(icmp_budget, BPF_MAP_TYPE_PERCPU_ARRAY, 1, struct vigil_credit_bucket);

/* The box's own addresses: traffic to them is the box's, not transit. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VIGIL_MAX_LOCAL_ADDRESSES);
  __type(key, struct vigil_local_address_key);
  __type(value, __u32);
} local_addresses SEC(".maps");

/* The box's service ports (SSH, BGP, SNMP, Prometheus) and the fast path's (tunnels, probes). */
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
/* The generation offloaded flows must carry to be forwarded (0: offload off). */
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

#endif /* VIGIL_CLASSIFIER_MAPS_H */

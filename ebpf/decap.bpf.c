/* Decapsulation for L4 backends: the other end of the classifier's direct server return.
 *
 * Strips the outer header the classifier added (IPIP, IPv6-in-IPv6, IPv4-in-IPv6 and the other
 * way round, or GUE variant 1 on `gue_port`) and passes the inner packet, addressed to the VIP,
 * to the backend's own stack. For backends whose kernel has no ipip/fou modules (like this
 * development machine's) or where a tunnel device per family is unwanted. Attach it with
 *   ip link set dev eth0 xdp object decap.bpf.o program vigil_decap
 * The backend needs the VIP on a local interface (lo) to accept the inner packet and answers
 * the client directly. Frames that are not such packets pass untouched. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "vigil/compat.h"

/* The project's licence; the program calls no GPL-only helper. */
char LICENSE[] SEC("license") = "Apache-2.0";

/* GUE's UDP port, as in l4.encap.gue_port. */
const volatile __u16 gue_port = 6080;

enum { DECAP_STAT_DECAPSULATED, DECAP_STAT_PASSED, DECAP_STAT_COUNT };

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, DECAP_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} decap_stats SEC(".maps");

static __always_inline int count(__u32 index, int action) {
  __u64* c = bpf_map_lookup_elem(&decap_stats, &index);
  if (c) {
    (*c)++;
  }
  return action;
}

/* The inner ethertype for an outer next header / protocol, or 0. */
static __always_inline __u16 inner_of(__u8 proto) {
  return proto == IPPROTO_IPIP ? ETH_P_IP : proto == IPPROTO_IPV6 ? ETH_P_IPV6 : 0;
}

/* For GUE variant 1, the inner packet's version nibble names its family. */
static __always_inline __u16 inner_of_gue(struct udphdr* udp, void* end) {
  __u8* first = (__u8*)(udp + 1);
  if ((void*)(first + 1) > end || udp->dest != vigil_htons(gue_port)) {
    return 0;
  }
  return (*first >> 4) == 4 ? ETH_P_IP : (*first >> 4) == 6 ? ETH_P_IPV6 : 0;
}

SEC("xdp")
int vigil_decap(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) {
    return count(DECAP_STAT_PASSED, XDP_PASS);
  }
  __u16 inner = 0;
  int overhead = 0;
  if (eth->h_proto == vigil_htons(ETH_P_IP)) {
    struct iphdr* ip = (void*)(eth + 1);
    if ((void*)(ip + 1) > end || ip->ihl != 5) {
      return count(DECAP_STAT_PASSED, XDP_PASS);
    }
    overhead = sizeof(*ip);
    inner = inner_of(ip->protocol);
    if (ip->protocol == IPPROTO_UDP) {
      struct udphdr* udp = (void*)(ip + 1);
      if ((void*)(udp + 1) > end) {
        return count(DECAP_STAT_PASSED, XDP_PASS);
      }
      inner = inner_of_gue(udp, end);
      overhead += sizeof(*udp);
    }
  } else if (eth->h_proto == vigil_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = (void*)(eth + 1);
    if ((void*)(ip6 + 1) > end) {
      return count(DECAP_STAT_PASSED, XDP_PASS);
    }
    overhead = sizeof(*ip6);
    inner = inner_of(ip6->nexthdr);
    if (ip6->nexthdr == IPPROTO_UDP) {
      struct udphdr* udp = (void*)(ip6 + 1);
      if ((void*)(udp + 1) > end) {
        return count(DECAP_STAT_PASSED, XDP_PASS);
      }
      inner = inner_of_gue(udp, end);
      overhead += sizeof(*udp);
    }
  }
  if (inner == 0) {
    return count(DECAP_STAT_PASSED, XDP_PASS);
  }
  /* The Ethernet header moves forward over the outer header, naming the inner family. */
  struct ethhdr copy;
  __builtin_memcpy(&copy, eth, sizeof(copy));
  copy.h_proto = vigil_htons(inner);
  if (bpf_xdp_adjust_head(ctx, overhead)) {
    return count(DECAP_STAT_PASSED, XDP_PASS);
  }
  data = (void*)(long)ctx->data;
  end = (void*)(long)ctx->data_end;
  eth = data;
  if ((void*)(eth + 1) > end) {
    return XDP_DROP; /* cannot happen: the inner packet follows */
  }
  __builtin_memcpy(eth, &copy, sizeof(copy));
  return count(DECAP_STAT_DECAPSULATED, XDP_PASS);
}

/* Flows vigil-dp offloaded: forwarded by the classifier itself as vigil-dp would have,
 * through the offload_ports device map; anything an entry cannot vouch for goes to vigil-dp. */
#ifndef VIGIL_CLASSIFIER_OFFLOAD_H
#define VIGIL_CLASSIFIER_OFFLOAD_H

#include "classifier_counting.h"
#include "vigil/checksum.h"
#include "vigil/offload.h"

/* Forwards a packet of an offloaded flow as vigil-dp would have: TTL or hop limit down by one
 * (IPv4's checksum patched), the next hop's and the egress port's MACs, out of the egress
 * device. Anything else about it that needs vigil-dp (an expired TTL to answer, a packet too
 * big for the egress, trailing bytes, a bad header checksum, a stale entry) sends it there:
 * -1, the packet untouched.
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
  /* What a router checks before it forwards, on every packet of the flow: trailing bytes
   * (vigil-dp trims them) and, for IPv4, the header checksum (a damaged header is dropped
   * there, never sent on with its checksum patched around the damage). */
  if (data + ETH_HLEN + p->l3_length != end) {
    return -1;
  }
  if (v4 && vigil_csum_fold(vigil_csum_add(ip4, sizeof(*ip4) / 2, 0)) != 0) {
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

#endif /* VIGIL_CLASSIFIER_OFFLOAD_H */

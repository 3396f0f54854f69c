#include "dataplane/pipeline/route_stage.h"

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/packet/flow_hash.h"
#include "dataplane/packet/ip_checksum.h"
#include "ebpf/host/parse_host.h"

namespace vigil::dp {
namespace {

bool is_v4(const vigil_packet& p) {
  return p.l3_proto == RTE_ETHER_TYPE_IPV4;
}

uint8_t* l3(rte_mbuf* m, const vigil_packet& p) {
  return rte_pktmbuf_mtod_offset(m, uint8_t*, p.l3_offset);
}

}  // namespace

RouteStage::RouteStage(const RouteTable& routes, LcoreCounters& counters, uint32_t hash_seed,
                       IcmpRateLimit icmp_limit, uint64_t tsc_hz)
    : routes_(routes),
      counters_(counters),
      hash_seed_(hash_seed),
      icmp_limit_(icmp_limit),
      tsc_per_token_(icmp_limit.per_second ? tsc_hz / icmp_limit.per_second : UINT64_MAX),
      icmp_tokens_(icmp_limit.burst) {}

void RouteStage::process(Burst& burst) {
  const ForwardingSnapshot* snap = routes_.snapshot();
  uint32_t v4_dst[kBurstSize];
  uint8_t v6_dst[kBurstSize][16];
  uint16_t v4_index[kBurstSize], v6_index[kBurstSize];
  uint64_t v4_group[kBurstSize], v6_group[kBurstSize];
  int n4 = 0, n6 = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    if (!burst.in_flight(i)) {
      continue;
    }
    const vigil_packet& p = burst.state[i].parsed;
    if (is_v4(p)) {
      v4_index[n4] = i;
      v4_dst[n4++] = rte_be_to_cpu_32(p.dst.v4);
    } else {
      v6_index[n6] = i;
      std::memcpy(v6_dst[n6++], p.dst.v6, 16);
    }
  }
  if (n4 > 0) {
    snap->fib->lookup4(v4_dst, v4_group, n4);
  }
  if (n6 > 0) {
    snap->fib->lookup6(v6_dst, v6_group, n6);
  }
  for (int k = 0; k < n4; ++k) {
    route(burst, v4_index[k], *snap, v4_group[k]);
  }
  for (int k = 0; k < n6; ++k) {
    route(burst, v6_index[k], *snap, v6_group[k]);
  }
}

void RouteStage::route(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, uint64_t group) {
  const GroupEntry& g = snap.entry(group);
  if (g.action != RouteAction::kForward) [[unlikely]] {
    if (g.action == RouteAction::kLocal) {
      burst.state[i].disposition = Disposition::kToKernel;
    } else if (g.action == RouteAction::kBlackhole) {
      burst.drop(i, DropReason::kBlackhole);
    } else {
      reject(burst, i, snap, DropReason::kNoRoute, IcmpError::kNetUnreachable);
    }
    return;
  }
  PacketState& st = burst.state[i];
  const vigil_packet& p = st.parsed;
  uint8_t* ip = l3(burst.packets[i], p);
  const bool v4 = is_v4(p);
  const uint8_t ttl = v4 ? ip[8] : ip[7];
  if (ttl <= 1) [[unlikely]] {
    reject(burst, i, snap, DropReason::kTtlExceeded, IcmpError::kTimeExceeded);
    return;
  }
  // A group of one (a single gateway, a connected subnet) needs no hash.
  const Forwarder& f =
      g.buckets == 1 ? snap.forwarders[g.first] : snap.pick(g, ecmp_flow_hash(p, hash_seed_));
  if (p.l3_length > f.mtu) [[unlikely]] {
    // No fragmentation on the fast path: IPv6 never fragments in transit, and IPv4 without DF
    // is rare enough to drop and count (documented), as most forwarding planes do.
    if (!v4 || p.dont_fragment) {
      reject(burst, i, snap, DropReason::kTooBig, IcmpError::kFragmentationNeeded, f.mtu);
    } else {
      burst.drop(i, DropReason::kTooBig);
    }
    return;
  }
  if (v4) {
    ipv4_decrement_ttl(ip);
  } else {
    --ip[7];
  }
  set_next_hop(st, f);
}

bool RouteStage::icmp_token() {
  const uint64_t now = rte_rdtsc();
  if (icmp_refill_tsc_ == 0 || now - icmp_refill_tsc_ >= tsc_per_token_) {
    const uint64_t earned = icmp_refill_tsc_ == 0 ? 0 : (now - icmp_refill_tsc_) / tsc_per_token_;
    icmp_tokens_ = std::min<uint64_t>(icmp_limit_.burst, icmp_tokens_ + earned);
    icmp_refill_tsc_ = now;
  }
  if (icmp_tokens_ == 0) {
    return false;
  }
  --icmp_tokens_;
  return true;
}

void RouteStage::reject(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, DropReason reason,
                        IcmpError error, uint16_t mtu) {
  // The offending packet is counted as dropped here, once; if an error is allowed its mbuf
  // carries the error from here on, otherwise (or if the error cannot be sent) it is freed.
  counters_.drop(reason);
  PacketState& st = burst.state[i];
  rte_mbuf* m = burst.packets[i];
  const vigil_packet offending = st.parsed;
  const bool v4 = is_v4(offending);
  const PortInfo& in = snap.ports[burst.in_port];
  const uint8_t* source = v4 ? (in.has_v4 ? in.v4 : nullptr) : (in.has_v6 ? in.v6 : nullptr);
  if (source == nullptr || !icmp_error_allowed(offending) || !icmp_token() ||
      !send_back(m, st, snap, offending, error, source, mtu)) {
    rte_pktmbuf_free(m);
    st.disposition = Disposition::kTaken;
    return;
  }
  ++counters_.icmp_errors_sent;
}

bool RouteStage::send_back(rte_mbuf* m, PacketState& st, const ForwardingSnapshot& snap,
                           const vigil_packet& offending, IcmpError error, const uint8_t* source,
                           uint16_t mtu) {
  rte_pktmbuf_adj(m, static_cast<uint16_t>(offending.l3_offset));
  if (!make_icmp_error(m, offending, error, source, mtu)) {
    return false;
  }
  // An Ethernet header to parse now and for the neighbour stage to fill in.
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ether_hdr)));
  if (eth == nullptr) {
    return false;
  }
  const bool v4 = is_v4(offending);
  eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  if (vigil_parse_frame(eth, rte_pktmbuf_data_len(m), &st.parsed) != VIGIL_PARSE_OK) {
    return false;
  }
  uint64_t group = kNoRouteGroup;
  if (v4) {
    uint32_t dst = rte_be_to_cpu_32(st.parsed.dst.v4);
    snap.fib->lookup4(&dst, &group, 1);
  } else {
    uint8_t dst[1][16];
    std::memcpy(dst[0], st.parsed.dst.v6, 16);
    snap.fib->lookup6(dst, &group, 1);
  }
  const GroupEntry& g = snap.entry(group);
  if (g.action != RouteAction::kForward) {
    return false;  // no way back to the source: nothing more to say
  }
  set_next_hop(st, snap.pick(g, ecmp_flow_hash(st.parsed, hash_seed_)));
  return true;
}

}  // namespace vigil::dp

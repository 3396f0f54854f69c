#include "dataplane/pipeline/icmp_responder.h"

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/packet/flow_hash.h"
#include "ebpf/host/parse_host.h"

namespace vigil::dp {
namespace {

bool is_v4(const vigil_packet& p) {
  return p.l3_proto == RTE_ETHER_TYPE_IPV4;
}

IcmpKind kind_of(IcmpError error) {
  return error == IcmpError::kFragmentationNeeded ? IcmpKind::kPathMtu : IcmpKind::kError;
}

}  // namespace

IcmpResponder::IcmpResponder(LcoreCounters& counters, uint32_t hash_seed, const IcmpLimits& limits,
                             uint64_t tsc_hz)
    : counters_(counters), hash_seed_(hash_seed), limiter_(limits, tsc_hz) {}

void IcmpResponder::reject(Burst& burst, uint16_t i, const ForwardingSnapshot& snap,
                           DropReason reason, IcmpError error, uint32_t detail) {
  // The offending packet is counted as dropped here, once; if an error is allowed its mbuf
  // carries the error from here on, otherwise (or if the error cannot be sent) it is freed.
  counters_.drop(reason);
  PacketState& st = burst.state[i];
  rte_mbuf* m = burst.packets[i];
  const vigil_packet offending = st.parsed;
  const bool v4 = is_v4(offending);
  const PortInfo& in = snap.ports[burst.in_port];
  const uint8_t* source = v4 ? (in.has_v4 ? in.v4 : nullptr) : (in.has_v6 ? in.v6 : nullptr);
  bool sent = false;
  if (!icmp_error_allowed(offending)) {
    ++counters_.icmp_errors_not_allowed;
  } else if (source == nullptr) {
    ++counters_.icmp_errors_no_source_address;
  } else if (!limiter_.allow(kind_of(error), offending.src.v6, v4 ? 4 : 6, rte_rdtsc())) {
    ++counters_.icmp_errors_rate_limited;
  } else {
    sent = send_back(m, st, snap, offending, error, source, detail);
  }
  if (!sent) {
    rte_pktmbuf_free(m);
    st.disposition = Disposition::kTaken;
    return;
  }
  ++counters_.icmp_errors_sent;
}

bool IcmpResponder::send_back(rte_mbuf* m, PacketState& st, const ForwardingSnapshot& snap,
                              const vigil_packet& offending, IcmpError error, const uint8_t* source,
                              uint32_t detail) {
  rte_pktmbuf_adj(m, static_cast<uint16_t>(offending.l3_offset));
  if (!make_icmp_error(m, offending, error, source, detail)) {
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
  st.disposition = Disposition::kInFlight;
  st.originated = true;
  return true;
}

}  // namespace vigil::dp

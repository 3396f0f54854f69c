#include "dataplane/pipeline/neighbour_stage.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/transmit.h"

namespace vigil::dp {

NeighbourStage::NeighbourStage(const RouteTable& routes, NeighbourTable& neighbours,
                               PacketSink& sink, LcoreCounters& counters, HoldLimits limits,
                               uint64_t tsc_hz)
    : routes_(routes),
      neighbours_(neighbours),
      sink_(sink),
      counters_(counters),
      hold_tsc_(tsc_hz / 1000 * limits.hold_ms),
      recheck_tsc_(tsc_hz / 1000000 * limits.recheck_us) {}

NeighbourStage::~NeighbourStage() {
  for (size_t i = 0; i < held_count_; ++i) {
    rte_pktmbuf_free(held_[i].packet);
  }
}

bool NeighbourStage::write_l2(rte_mbuf* m, const rte_ether_addr& dst, const rte_ether_addr& src,
                              bool v4) {
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ether_hdr)));
  if (eth == nullptr) {
    return false;
  }
  eth->dst_addr = dst;
  eth->src_addr = src;
  eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  return true;
}

void NeighbourStage::send(rte_mbuf* m, PacketState& st, const rte_ether_addr& dst,
                          const rte_ether_addr& src) {
  const bool v4 = st.parsed.l3_proto == RTE_ETHER_TYPE_IPV4;
  if (st.parsed.l3_offset == sizeof(rte_ether_hdr)) [[likely]] {
    // Untagged: the new header takes the old one's place, no headroom moves.
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = dst;
    eth->src_addr = src;
    eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  } else {
    // VLAN tags go: cannot fail, the old header freed at least as much headroom.
    rte_pktmbuf_adj(m, static_cast<uint16_t>(st.parsed.l3_offset));
    write_l2(m, dst, src, v4);
  }
  st.disposition = Disposition::kTransmit;
}

NeighbourKey NeighbourStage::key_of(const PacketState& st) {
  NeighbourKey k{.port = st.out_port};
  const uint8_t* address = st.gateway != nullptr ? st.gateway : st.parsed.dst.v6;
  if (st.parsed.l3_proto == RTE_ETHER_TYPE_IPV4) {
    std::memcpy(k.address, address, 4);
  } else {
    k.family = 6;
    std::memcpy(k.address, address, 16);
  }
  return k;
}

void NeighbourStage::process(Burst& burst) {
  const ForwardingSnapshot* snap = routes_.snapshot();
  // Packets to a gateway find its MAC in the gateway's adjacency; the rest (destinations on
  // a connected subnet, gateways without an adjacency) are looked up by address, in bulk.
  NeighbourKey keys[kBurstSize];
  const NeighbourKey* key_ptrs[kBurstSize];
  uint16_t index[kBurstSize];
  uint32_t n = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    if (!burst.in_flight(i)) {
      continue;
    }
    PacketState& st = burst.state[i];
    rte_ether_addr mac;
    if (st.adjacency != kNoAdjacency && neighbours_.lookup(st.adjacency, &mac)) [[likely]] {
      send(burst.packets[i], st, mac, snap->ports[st.out_port].mac);
      continue;
    }
    keys[n] = key_of(st);
    key_ptrs[n] = &keys[n];
    index[n++] = i;
  }
  if (n == 0) {
    return;
  }
  rte_ether_addr macs[kBurstSize];
  const uint64_t hits = neighbours_.lookup_bulk(key_ptrs, n, macs);
  uint64_t now = 0;
  for (uint32_t k = 0; k < n; ++k) {
    const uint16_t i = index[k];
    PacketState& st = burst.state[i];
    rte_mbuf* m = burst.packets[i];
    if (hits >> k & 1) [[likely]] {
      send(m, st, macs[k], snap->ports[st.out_port].mac);
      continue;
    }
    if (now == 0) {
      now = rte_rdtsc();
    }
    rte_pktmbuf_adj(m, static_cast<uint16_t>(st.parsed.l3_offset));  // held from the IP header
    hold(m, keys[k], st, now);
    st.disposition = Disposition::kTaken;
  }
}

void NeighbourStage::hold(rte_mbuf* m, const NeighbourKey& key, const PacketState& st,
                          uint64_t now) {
  if (held_count_ == kHoldCapacity) {
    counters_.drop(DropReason::kHoldQueueFull);
    rte_pktmbuf_free(m);
    return;
  }
  // One request per next hop while its packets wait: the control thread does the retrying.
  const bool asked = std::any_of(held_.begin(), held_.begin() + static_cast<long>(held_count_),
                                 [&](const Held& h) { return h.key == key; });
  if (!asked) {
    neighbours_.request(key);
  }
  held_[held_count_++] = Held{m, key, now + hold_tsc_, st.out_port, st.fragment_mtu};
  ++counters_.held_for_neighbour;
}

void NeighbourStage::poll(uint64_t now_tsc) {
  if (held_count_ == 0 || now_tsc < next_check_tsc_) {
    return;
  }
  next_check_tsc_ = now_tsc + recheck_tsc_;
  const ForwardingSnapshot* snap = routes_.snapshot();
  size_t kept = 0;
  for (size_t i = 0; i < held_count_; ++i) {
    Held& h = held_[i];
    rte_ether_addr mac;
    if (neighbours_.lookup(h.key, &mac)) {
      write_l2(h.packet, mac, snap->ports[h.port].mac, h.key.family == 4);
      transmit(sink_, counters_, h.port, h.packet, h.fragment_mtu);
    } else if (now_tsc >= h.deadline_tsc) {
      counters_.drop(DropReason::kNoNeighbour);
      rte_pktmbuf_free(h.packet);
    } else {
      held_[kept++] = h;  // order kept: packets of one flow leave in the order they came
    }
  }
  held_count_ = kept;
}

}  // namespace vigil::dp

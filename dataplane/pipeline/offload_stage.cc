#include "dataplane/pipeline/offload_stage.h"

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/offload.h"
#pragma GCC diagnostic pop

namespace vigil::dp {

OffloadStage::OffloadStage(OffloadChannel& channel, uint64_t tsc_hz, uint32_t retry_ms)
    : channel_(channel), retry_tsc_(tsc_hz / 1000 * retry_ms) {}

void OffloadStage::begin(Burst& /*burst*/) {
  epoch_ = channel_.epoch();
}

bool OffloadStage::recently_offered(uint32_t tag, uint64_t now) {
  Recent& r = recent_[tag & (kRecentFlows - 1)];
  if (r.tag == tag && r.epoch == epoch_ && now - r.tsc < retry_tsc_) {
    return true;
  }
  r = Recent{.tag = tag, .epoch = epoch_, .tsc = now};
  return false;
}

void OffloadStage::process(Burst& burst) {
  if (epoch_ == 0) {
    return;  // offload is off
  }
  uint64_t now = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    const PacketState& st = burst.state[i];
    if (st.disposition != Disposition::kTransmit || st.tunnel ||
        !vigil_offload_eligible(&st.parsed) || !channel_.offloadable(burst.in_port, st.out_port)) {
      continue;
    }
    FlowOffer offer;
    vigil_offload_key_of(&st.parsed, &offer.key);
    const uint32_t tag = rte_hash_crc(&offer.key, sizeof(offer.key), 0);
    if (now == 0) {
      now = rte_rdtsc();
    }
    if (recently_offered(tag, now)) {
      continue;
    }
    // The neighbour stage wrote the Ethernet header the packet leaves with.
    const auto* eth = rte_pktmbuf_mtod(burst.packets[i], const rte_ether_hdr*);
    offer.epoch = epoch_;
    offer.in_port = burst.in_port;
    offer.out_port = st.out_port;
    std::memcpy(offer.dst_mac, eth->dst_addr.addr_bytes, 6);
    std::memcpy(offer.src_mac, eth->src_addr.addr_bytes, 6);
    offer.mtu = st.out_mtu;
    offer.pad = 0;
    // A full ring loses the offer; the flow is offered again after the retry time.
    (void)channel_.offer(offer);
  }
}

}  // namespace vigil::dp

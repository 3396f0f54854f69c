#include "dataplane/offload/offload_channel.h"

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

namespace vigil::dp {

Expected<std::unique_ptr<OffloadChannel>> OffloadChannel::create(const std::string& name,
                                                                 unsigned capacity) {
  rte_ring* ring = rte_ring_create_elem((name + "_offl").c_str(), sizeof(FlowOffer), capacity,
                                        SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (ring == nullptr) {
    return fail("cannot create the flow offload ring: " + std::string(rte_strerror(rte_errno)));
  }
  return std::unique_ptr<OffloadChannel>(new OffloadChannel(ring));
}

OffloadChannel::~OffloadChannel() {
  rte_ring_free(ring_);
}

bool OffloadChannel::offer(const FlowOffer& offer) {
  return rte_ring_mp_enqueue_elem(ring_, const_cast<FlowOffer*>(&offer), sizeof(FlowOffer)) == 0;
}

std::vector<FlowOffer> OffloadChannel::take(unsigned max) {
  std::vector<FlowOffer> offers(max);
  const unsigned n =
      rte_ring_sc_dequeue_burst_elem(ring_, offers.data(), sizeof(FlowOffer), max, nullptr);
  offers.resize(n);
  return offers;
}

}  // namespace vigil::dp

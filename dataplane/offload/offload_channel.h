// How lcores hand flows to the control thread for offload into the XDP classifier: a ring of
// offers (many lcores put, the control thread takes), the epoch an offer must carry to count,
// and which ports flows may be offloaded between. Lcores never wait on it and never make a
// system call: a full ring loses the offer, and the flow is offered again later.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/next_hop_group.h"
#include "vigil/classifier_types.h"

struct rte_ring;

namespace vigil::dp {

// What an lcore forwarded one packet of a flow with: everything the classifier needs to
// forward the flow's next packets the same way.
struct FlowOffer {
  vigil_offload_key key;
  uint32_t epoch;  // the channel's epoch when the burst began
  PortId in_port;
  PortId out_port;
  uint8_t dst_mac[6];
  uint8_t src_mac[6];
  uint16_t mtu;
  uint16_t pad;
};
static_assert(sizeof(FlowOffer) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

class OffloadChannel {
 public:
  static Expected<std::unique_ptr<OffloadChannel>> create(const std::string& name,
                                                          unsigned capacity);
  ~OffloadChannel();
  OffloadChannel(const OffloadChannel&) = delete;
  OffloadChannel& operator=(const OffloadChannel&) = delete;

  // Lcores. The epoch is read at the start of a burst, before any route or MAC is: an offer
  // made under epoch E was decided on tables at least as new as E's.
  uint32_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  bool offloadable(PortId in, PortId out) const {
    const uint64_t ports = ports_.load(std::memory_order_relaxed);
    return in < 64 && out < 64 && (ports >> in & 1) && (ports >> out & 1);
  }
  bool offer(const FlowOffer& offer);  // false: the ring was full, the offer is lost

  // Control thread.
  void set_epoch(uint32_t epoch) { epoch_.store(epoch, std::memory_order_release); }
  void set_offloadable(uint64_t ports) { ports_.store(ports, std::memory_order_relaxed); }
  std::vector<FlowOffer> take(unsigned max);

 private:
  explicit OffloadChannel(rte_ring* ring) : ring_(ring) {}
  rte_ring* ring_;
  std::atomic<uint32_t> epoch_{0};  // 0: nothing is offloaded, nothing is offered
  std::atomic<uint64_t> ports_{0};
};

}  // namespace vigil::dp

// Last stage: offers the flows of what the burst transmits to the control thread, which
// writes them into the XDP classifier (flow offload, ebpf/include/vigil/classifier_types.h);
// the classifier then forwards those flows' later packets itself and they stop coming here.
// Only what forwarding changed by nothing but the TTL and the Ethernet header qualifies:
// untagged, unfragmented TCP and UDP (vigil_offload_eligible), between ports the control
// thread marked offloadable. A small per-lcore table remembers which flows were offered in
// the current epoch, so a flow is offered once, and again only if it still comes after
// `retry_ms` (its offer was lost or declined) or after the tables changed.
#pragma once

#include <array>

#include "dataplane/offload/offload_channel.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

class OffloadStage final : public Stage {
 public:
  static constexpr size_t kRecentFlows = 4096;  // a power of two

  OffloadStage(OffloadChannel& channel, uint64_t tsc_hz, uint32_t retry_ms = 100);
  const char* name() const override { return "offload"; }
  void begin(Burst& burst) override;
  void process(Burst& burst) override;

 private:
  struct Recent {
    uint32_t tag = 0;
    uint32_t epoch = 0;
    uint64_t tsc = 0;
  };
  // True when the flow (`tag`, direction-sensitive) was offered in this epoch lately.
  bool recently_offered(uint32_t tag, uint64_t now);

  OffloadChannel& channel_;
  uint64_t retry_tsc_;
  uint32_t epoch_ = 0;  // read at the start of the burst
  std::array<Recent, kRecentFlows> recent_{};
};

}  // namespace vigil::dp

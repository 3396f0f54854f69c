#include "dataplane/pipeline/pipeline.h"

#include <rte_mbuf.h>

#include "dataplane/pipeline/transmit.h"

namespace vigil::dp {

void Pipeline::run(Burst& burst) {
  for (auto& stage : stages_) {
    stage->begin(burst);
  }
  for (auto& stage : stages_) {
    stage->process(burst);
  }
  finish(burst);
}

void Pipeline::finish(Burst& burst) {
  for (uint16_t i = 0; i < burst.count; ++i) {
    rte_mbuf* m = burst.packets[i];
    switch (burst.state[i].disposition) {
      case Disposition::kTransmit:
        transmit(sink_, counters_, burst.state[i].out_port, m, burst.state[i].fragment_mtu);
        break;
      case Disposition::kToKernel:
        ++counters_.to_kernel;
        sink_.to_kernel(burst.in_port, burst.state[i].tunnel, m);
        break;
      case Disposition::kTaken:
        break;
      case Disposition::kInFlight:
        counters_.drop(DropReason::kUnclaimed);
        rte_pktmbuf_free(m);
        break;
      case Disposition::kDrop:
        counters_.drop(burst.state[i].drop);
        rte_pktmbuf_free(m);
        break;
    }
  }
}

}  // namespace vigil::dp

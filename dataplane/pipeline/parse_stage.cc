#include "dataplane/pipeline/parse_stage.h"

#include <rte_mbuf.h>

#include "ebpf/host/parse_host.h"

namespace vigil::dp {

void ParseStage::process(Burst& burst) {
  for (uint16_t i = 0; i < burst.count; ++i) {
    if (!burst.in_flight(i) || burst.state[i].originated) {
      continue;
    }
    rte_mbuf* m = burst.packets[i];
    // Headers must sit in the first segment; a frame split before its L4 header is malformed
    // here as it is for the classifier, which sees one buffer too.
    const int result = vigil_parse_frame(rte_pktmbuf_mtod(m, const void*), rte_pktmbuf_data_len(m),
                                         &burst.state[i].parsed);
    if (result == VIGIL_PARSE_NOT_IP) [[unlikely]] {
      burst.state[i].disposition = Disposition::kToKernel;
    } else if (result != VIGIL_PARSE_OK) [[unlikely]] {
      burst.drop(i, DropReason::kMalformed);
    }
  }
}

}  // namespace vigil::dp

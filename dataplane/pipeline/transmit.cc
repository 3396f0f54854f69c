#include "dataplane/pipeline/transmit.h"

#include "dataplane/packet/ipv4_fragmenter.h"

namespace vigil::dp {

void transmit(PacketSink& sink, LcoreCounters& counters, PortId port, rte_mbuf* m,
              uint16_t fragment_mtu) {
  if (fragment_mtu == 0) [[likely]] {
    sink.transmit(port, m);
    return;
  }
  rte_mbuf* fragments[kMaxFragments];
  const uint16_t n = fragment_ipv4(m, fragment_mtu, fragments);
  if (n == 0) {
    counters.drop(DropReason::kFragmentationFailed);
    return;
  }
  ++counters.ipv4_fragmented;
  counters.ipv4_fragments_created += n;
  for (uint16_t i = 0; i < n; ++i) {
    sink.transmit(port, fragments[i]);
  }
}

}  // namespace vigil::dp

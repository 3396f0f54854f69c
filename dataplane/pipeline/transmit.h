// The last step of every forwarded frame, from the burst's end (Pipeline::finish) or the
// neighbour stage's hold queue: to the sink as it is, or as IPv4 fragments when the route
// stage found it over the egress MTU without DF.
#pragma once

#include "dataplane/pipeline/lcore_counters.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

// `fragment_mtu` 0: `m` goes as it is. Otherwise its fragments go, in order, and the datagram
// counts as fragmented (or dropped as fragmentation_failed when no mbufs were left).
void transmit(PacketSink& sink, LcoreCounters& counters, PortId port, rte_mbuf* m,
              uint16_t fragment_mtu);

}  // namespace vigil::dp

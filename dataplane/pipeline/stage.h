// A step of the fast path. Each lcore builds its own pipeline of stage objects, so a stage
// may keep per-lcore state (a hold queue, a shaper's buckets) without locks. WireGuard, QoS
// and WAN optimisation arrive as stages registered in order (pipeline.h).
#pragma once

#include <cstdint>

#include "dataplane/pipeline/burst.h"

namespace vigil::dp {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual const char* name() const = 0;
  // Called for every stage before the first one processes the burst: what must be read
  // before any stage reads the tables (the offload stage's epoch).
  virtual void begin(Burst& /*burst*/) {}
  // Decides for the packets still in flight; may leave them in flight for the next stage.
  virtual void process(Burst& burst) = 0;
  // Called once per loop of the lcore, burst or not: timers, queues a stage holds.
  virtual void poll(uint64_t /*now_tsc*/) {}
  // Packets the stage made or held (a tunnel's keepalives and handshake messages, packets
  // that waited for a session), put in `burst` with their state: the lcore runs them through
  // the pipeline as a burst of their own after poll(). Their count.
  virtual uint16_t originate(Burst& /*burst*/) { return 0; }
};

// Where finished packets go: the lcore worker implements it over the ports' TX buffers and the
// exception path; tests capture. Both take ownership of the mbuf.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void transmit(PortId port, rte_mbuf* m) = 0;
  // `from_tunnel`: a packet a tunnel decrypted, for the box itself; it goes to the mesh's
  // kernel device where there is one, else to `in_port`'s exception path.
  virtual void to_kernel(PortId in_port, bool from_tunnel, rte_mbuf* m) = 0;
};

}  // namespace vigil::dp

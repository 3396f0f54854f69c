// FIB lookup in bulk, ECMP member choice by a symmetric flow hash, TTL / hop limit and MTU
// checks with the ICMP errors they call for (through the lcore's IcmpResponder), TTL
// decrement with an incremental checksum. What the box's own kernel sends on the mesh's device
// (PortInfo::from_kernel) goes only into the tunnel.
// Leaves forwarded packets in flight with out_port and the next hop set, for the stages that
// follow (QoS, encapsulation) and the neighbour stage, which writes the L2 header.
#pragma once

#include <memory>

#include "dataplane/forwarding/route_table.h"
#include "dataplane/pipeline/icmp_responder.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

class RouteStage final : public Stage {
 public:
  RouteStage(const RouteTable& routes, std::shared_ptr<IcmpResponder> icmp, uint32_t hash_seed);
  const char* name() const override { return "route"; }
  void process(Burst& burst) override;

 private:
  // Everything for packet i whose FIB lookup gave `group`.
  [[gnu::always_inline]] inline void route(Burst& burst, uint16_t i, const ForwardingSnapshot& snap,
                                           uint64_t group);
  // The same for a packet the box's kernel sent on the mesh's device: only into the tunnel,
  // and not a hop (no TTL check or decrement: the kernel made it, inside this box).
  void route_from_kernel(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, uint64_t group);
  // Record route and timestamp: this router's entry, the header's checksum summed again.
  static void record_in_options(uint8_t* ip, const ForwardingSnapshot& snap, PortId in, PortId out);

  const RouteTable& routes_;
  std::shared_ptr<IcmpResponder> icmp_;
  uint32_t hash_seed_;
};

}  // namespace vigil::dp

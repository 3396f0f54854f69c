// An lcore's inbox for the mesh packets another lcore received or routed but cannot handle:
// each peer's sessions live on one lcore (its owner, slot mod lcores), and RSS spreads the
// datagrams from a peer and the packets toward it over every lcore. The others pass them here,
// many producers, one consumer; the owner runs them through its pipeline as a burst of its
// own, so the replay window and the send counter keep a single writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"
#include "dataplane/pipeline/burst.h"

struct rte_ring;

namespace vigil::dp {

struct HandedOff {
  rte_mbuf* packet = nullptr;
  PacketState state;  // for a packet to seal: as routed (to the tunnel's port)
  PortId in_port = 0;
  bool received = false;  // a datagram to open, parsed again by the owner's pipeline
};

class TunnelHandoff {
 public:
  static Expected<std::unique_ptr<TunnelHandoff>> create(const std::string& name, unsigned size);
  ~TunnelHandoff();  // frees the packets still waiting
  TunnelHandoff(const TunnelHandoff&) = delete;
  TunnelHandoff& operator=(const TunnelHandoff&) = delete;

  // Any lcore: false when the inbox is full (nothing was queued; the caller drops it).
  bool put(const HandedOff& h);
  // The owner: up to `max` into `out`; how many.
  unsigned take(HandedOff* out, unsigned max);

 private:
  TunnelHandoff() = default;
  rte_ring* ring_ = nullptr;
};

}  // namespace vigil::dp

// Last stage before TX: replaces whatever L2 header the packet came with (VLAN tags included)
// by one to the next hop's MAC from the egress port's MAC. A next hop not yet resolved is
// asked for once, and its packets wait in a small per-lcore hold queue; when the answer
// comes they go out, when it does not within the hold time they are dropped and counted
// (no_neighbour), as a kernel's unresolved queue would.
#pragma once

#include <array>

#include "dataplane/forwarding/neighbour_table.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/pipeline/lcore_counters.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

struct HoldLimits {
  uint32_t hold_ms = 1000;
  uint32_t recheck_us = 100;  // how often held packets look for their answer
};

class NeighbourStage final : public Stage {
 public:
  static constexpr size_t kHoldCapacity = 256;

  NeighbourStage(const RouteTable& routes, NeighbourTable& neighbours, PacketSink& sink,
                 LcoreCounters& counters, HoldLimits limits, uint64_t tsc_hz);
  ~NeighbourStage() override;
  const char* name() const override { return "neighbour"; }
  void process(Burst& burst) override;
  void poll(uint64_t now_tsc) override;

  size_t held() const { return held_count_; }

 private:
  struct Held {
    rte_mbuf* packet;  // data starts at the IP header
    NeighbourKey key;
    uint64_t deadline_tsc;
    PortId port;
    uint16_t fragment_mtu;  // PacketState's
  };
  // Gives packet `m` (state `st`) the Ethernet header from `src` to `dst` and marks it sent.
  static void send(rte_mbuf* m, PacketState& st, const rte_ether_addr& dst,
                   const rte_ether_addr& src);
  static NeighbourKey key_of(const PacketState& st);
  // Writes the Ethernet header in front of the IP header at the start of `m`.
  static bool write_l2(rte_mbuf* m, const rte_ether_addr& dst, const rte_ether_addr& src, bool v4);
  void hold(rte_mbuf* m, const NeighbourKey& key, const PacketState& st, uint64_t now);

  const RouteTable& routes_;
  NeighbourTable& neighbours_;
  PacketSink& sink_;
  LcoreCounters& counters_;
  uint64_t hold_tsc_, recheck_tsc_;
  uint64_t next_check_tsc_ = 0;
  std::array<Held, kHoldCapacity> held_{};
  size_t held_count_ = 0;
};

}  // namespace vigil::dp

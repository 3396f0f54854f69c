// FIB lookup in bulk, ECMP member choice by a symmetric flow hash, TTL / hop limit and MTU
// checks with the ICMP errors they call for, TTL decrement with an incremental checksum.
// Leaves forwarded packets in flight with out_port and the next hop set, for the stages that
// follow (QoS, encapsulation) and the neighbour stage, which writes the L2 header.
#pragma once

#include "dataplane/forwarding/route_table.h"
#include "dataplane/packet/icmp_error.h"
#include "dataplane/pipeline/lcore_counters.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

// ICMP errors this lcore may send: a token bucket, as routers limit them (RFC 1812 4.3.2.8)
// so a scan or a loop cannot turn the box into a packet source.
struct IcmpRateLimit {
  uint32_t per_second = 1000;
  uint32_t burst = 100;
};

class RouteStage final : public Stage {
 public:
  RouteStage(const RouteTable& routes, LcoreCounters& counters, uint32_t hash_seed,
             IcmpRateLimit icmp_limit, uint64_t tsc_hz);
  const char* name() const override { return "route"; }
  void process(Burst& burst) override;

 private:
  // Everything for packet i whose FIB lookup gave `group`.
  [[gnu::always_inline]] inline void route(Burst& burst, uint16_t i, const ForwardingSnapshot& snap,
                                           uint64_t group);
  // Drops packet i for `reason` and, where allowed, turns it into an ICMP error routed back
  // to its source.
  void reject(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, DropReason reason,
              IcmpError error, uint16_t mtu = 0);
  bool send_back(rte_mbuf* m, PacketState& st, const ForwardingSnapshot& snap,
                 const vigil_packet& offending, IcmpError error, const uint8_t* source,
                 uint16_t mtu);
  static void set_next_hop(PacketState& st, const Forwarder& f) {
    st.out_port = f.port;
    st.adjacency = f.adjacency;
    st.gateway = f.gateway;
    st.out_mtu = f.mtu;
  }
  bool icmp_token();

  const RouteTable& routes_;
  LcoreCounters& counters_;
  uint32_t hash_seed_;
  IcmpRateLimit icmp_limit_;
  uint64_t tsc_per_token_;
  uint64_t icmp_tokens_;
  uint64_t icmp_refill_tsc_ = 0;
};

}  // namespace vigil::dp

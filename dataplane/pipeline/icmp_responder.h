// The ICMP errors the fast path originates, for every stage that refuses a packet (the admit
// stage's parameter problems, the route stage's time exceeded, unreachable and too big): the
// offending packet is dropped and counted once, and its mbuf becomes the error, routed back to
// its source, when RFC 1812 4.3.2.7 / RFC 4443 2.4(e) allow an error about it and this lcore's
// rate limits (packet/icmp_rate_limiter.h) have room. One per lcore, shared by its stages, so
// the lcore has one budget per kind and source.
#pragma once

#include "dataplane/forwarding/route_table.h"
#include "dataplane/packet/icmp_error.h"
#include "dataplane/packet/icmp_rate_limiter.h"
#include "dataplane/pipeline/burst.h"
#include "dataplane/pipeline/lcore_counters.h"

namespace vigil::dp {

class IcmpResponder {
 public:
  IcmpResponder(LcoreCounters& counters, uint32_t hash_seed, const IcmpLimits& limits,
                uint64_t tsc_hz);

  // Drops packet i of `burst` for `reason` and answers `error` about it where allowed;
  // `detail` is the next-hop MTU (too big) or the octet in error (parameter problem). The
  // packet leaves the burst either way (transmitted as the error, or freed).
  void reject(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, DropReason reason,
              IcmpError error, uint32_t detail = 0);

  // Where packet i's next hop is, once routed: the stages that route set it through this.
  static void set_next_hop(PacketState& st, const Forwarder& f) {
    st.out_port = f.port;
    st.adjacency = f.adjacency;
    st.gateway = f.gateway;
    st.out_mtu = f.mtu;
  }

 private:
  bool send_back(rte_mbuf* m, PacketState& st, const ForwardingSnapshot& snap,
                 const vigil_packet& offending, IcmpError error, const uint8_t* source,
                 uint32_t detail);

  LcoreCounters& counters_;
  uint32_t hash_seed_;
  IcmpRateLimiter limiter_;
};

}  // namespace vigil::dp

// A burst: up to 32 packets received together on one port, with what the stages decided for
// each. Stages walk the burst in order; a packet leaves the walk as soon as it has a final
// disposition, so later stages only see what is still in flight.
#pragma once

#include <cstdint>

#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/pipeline/drop_reason.h"
#include "vigil/packet.h"

struct rte_mbuf;

namespace vigil::dp {

inline constexpr uint16_t kBurstSize = 32;

enum class Disposition : uint8_t {
  kInFlight,  // the next stage decides
  kTransmit,  // out of `out_port`, L2 header written
  kToKernel,  // for the box: the exception path
  kDrop,      // freed and counted under `drop`
  kTaken,     // a stage kept the mbuf (held for ARP/ND, queued by a shaper)
};

// Not zeroed on construction: the parse stage writes `parsed` before any stage reads it, and
// zeroing 32 states per burst would cost every packet.
struct PacketState {    // NOLINT(cppcoreguidelines-pro-type-member-init)
  vigil_packet parsed;  // from the parse stage; l3_offset locates the IP header
  Disposition disposition = Disposition::kInFlight;
  DropReason drop = DropReason::kMalformed;
  PortId out_port = 0;
  uint16_t out_mtu = 0;  // the egress port's IP MTU, once routed
  // The gateway's adjacency (its MAC in one word), kNoAdjacency on a connected route.
  AdjacencyId adjacency = kNoAdjacency;
  // The gateway's address (16 bytes, IPv4 in the first 4) in the burst's forwarding snapshot,
  // or nullptr: the packet's destination is the neighbour.
  const uint8_t* gateway = nullptr;
  // Made by the box or already routed (an ICMP error it sends back, a mesh packet sealed or
  // made on the lcore): parse, admit and route leave it alone.
  bool originated = false;
  // Carried by the mesh (decapsulated, or sealed toward a peer): never offered to XDP offload,
  // which cannot encrypt.
  bool tunnel = false;
  // IPv4 without DF over the egress MTU: sent in fragments of at most this many bytes of IP
  // (0: sent as it is).
  uint16_t fragment_mtu = 0;
};

struct Burst {  // NOLINT(cppcoreguidelines-pro-type-member-init): reset() and RX fill it
  PortId in_port = 0;
  uint16_t count = 0;
  rte_mbuf* packets[kBurstSize];
  PacketState state[kBurstSize];

  void reset(PortId port, uint16_t n) {
    in_port = port;
    count = n;
    for (uint16_t i = 0; i < n; ++i) {
      state[i].disposition = Disposition::kInFlight;
      state[i].originated = false;
      state[i].tunnel = false;
      state[i].fragment_mtu = 0;
    }
  }
  void drop(uint16_t i, DropReason reason) {
    state[i].disposition = Disposition::kDrop;
    state[i].drop = reason;
  }
  bool in_flight(uint16_t i) const { return state[i].disposition == Disposition::kInFlight; }
};

}  // namespace vigil::dp

// Counters of one lcore: written by it alone, without atomics, and summed over lcores when
// read (a reader may see a value a few packets old, never a torn one on 64-bit loads).
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/pipeline/drop_reason.h"

namespace vigil::dp {

inline constexpr size_t kMaxPorts = 32;
// The virtual port routes to the mesh point at: the last PortId, never a device's (ports and
// exception TAPs stop below it).
inline constexpr uint16_t kTunnelPort = kMaxPorts - 1;

struct PortCounters {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;

  PortCounters& operator+=(const PortCounters& o) {
    rx_packets += o.rx_packets;
    rx_bytes += o.rx_bytes;
    tx_packets += o.tx_packets;
    tx_bytes += o.tx_bytes;
    return *this;
  }
};

struct alignas(64) LcoreCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<PortCounters, kMaxPorts> ports{};
  uint64_t to_kernel = 0;
  uint64_t icmp_errors_sent = 0;
  uint64_t icmp_errors_rate_limited = 0;       // allowed, but over the lcore's budget
  uint64_t icmp_errors_not_allowed = 0;        // about an ICMP error, a fragment, a group address
  uint64_t icmp_errors_no_source_address = 0;  // the ingress port has no address to send from
  uint64_t held_for_neighbour = 0;
  uint64_t ipv4_fragmented = 0;         // datagrams over the egress MTU sent in fragments
  uint64_t ipv4_fragments_created = 0;  // the fragments they became
  uint64_t idle_sleeps = 0;             // naps taken with IdlePolicy::sleep

  void drop(DropReason reason) { ++drops[static_cast<size_t>(reason)]; }

  // Summing lcores for a reader; kept beside the fields so a new one is not left out.
  LcoreCounters& operator+=(const LcoreCounters& o) {
    for (size_t r = 0; r < drops.size(); ++r) {
      drops[r] += o.drops[r];
    }
    for (size_t p = 0; p < ports.size(); ++p) {
      ports[p] += o.ports[p];
    }
    to_kernel += o.to_kernel;
    icmp_errors_sent += o.icmp_errors_sent;
    icmp_errors_rate_limited += o.icmp_errors_rate_limited;
    icmp_errors_not_allowed += o.icmp_errors_not_allowed;
    icmp_errors_no_source_address += o.icmp_errors_no_source_address;
    held_for_neighbour += o.held_for_neighbour;
    ipv4_fragmented += o.ipv4_fragmented;
    ipv4_fragments_created += o.ipv4_fragments_created;
    idle_sleeps += o.idle_sleeps;
    return *this;
  }
};

}  // namespace vigil::dp

// Counters of one lcore: written by it alone, without atomics, and summed over lcores when
// read (a reader may see a value a few packets old, never a torn one on 64-bit loads).
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/pipeline/drop_reason.h"

namespace vigil::dp {

inline constexpr size_t kMaxPorts = 32;

struct PortCounters {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
};

struct alignas(64) LcoreCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<PortCounters, kMaxPorts> ports{};
  uint64_t to_kernel = 0;
  uint64_t icmp_errors_sent = 0;
  uint64_t held_for_neighbour = 0;
  uint64_t idle_sleeps = 0;  // naps taken with IdlePolicy::sleep

  void drop(DropReason reason) { ++drops[static_cast<size_t>(reason)]; }
};

}  // namespace vigil::dp

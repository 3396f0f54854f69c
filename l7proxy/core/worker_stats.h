// A worker's counters: written by its thread alone (a plain load and store, no locked
// instruction on the request path), read by the control thread for metrics and `show`.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace vigil::l7 {

struct WorkerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_connections{0};  // past max_connections
  std::atomic<uint64_t> active_connections{0};
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, 6> responses{};  // by class: [1] 1xx ... [5] 5xx
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_reused{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> ejections{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> bad_requests{0};        // refused as malformed (4xx before routing)
  std::atomic<uint64_t> access_log_dropped{0};  // lines the disk did not take in time
};

// Single-writer increment.
inline void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
inline void drop(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace vigil::l7

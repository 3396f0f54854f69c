// A target's health as its active checks last concluded. The health checker's thread writes
// it; every worker reads it at each pick, and the control thread for `show` and the metrics.
// Atomics only, so nothing on the request path waits for a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace vigil::l7 {

// Why the last failed check failed.
enum class CheckFailure : uint8_t {
  kNone,
  kConnect,      // refused, unreachable
  kTimeout,      // not through within the timeout
  kStatus,       // answered with a status not expected
  kBadResponse,  // not an HTTP response head, or past its limit
  kClosed,       // closed before a whole head came
  kLocal,        // this side could not open a socket
  kTls,          // the TLS handshake failed (the certificate refused, say)
};

std::string_view check_failure_name(CheckFailure f);

struct TargetHealth {
  enum class State : uint8_t { kUnchecked, kHealthy, kUnhealthy };

  std::atomic<State> state{State::kUnchecked};
  std::atomic<uint64_t> passed{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> changes{0};  // healthy to unhealthy and back, since first checked
  std::atomic<CheckFailure> last_failure{CheckFailure::kNone};
  std::atomic<int> last_status{0};  // of the last failure kStatus

  State now() const { return state.load(std::memory_order_relaxed); }
};

// The health of one config's targets, by upstream and target as ProxyConfig has them; an
// upstream without checks has an empty list. Built once per config and read-only after: the
// TargetHealth it points to is what changes.
using HealthBoard = std::vector<std::vector<std::shared_ptr<TargetHealth>>>;

}  // namespace vigil::l7

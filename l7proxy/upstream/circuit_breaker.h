// A circuit breaker per upstream: after `failures_to_open` failures in a row it opens and
// refuses at once (a 503 without waiting on a dead upstream) for `open_for`; then it lets
// `half_open_probes` requests through (at least 1), closing on a success and opening again on
// a failure; a probe that never reports frees its turn after `open_for`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace vigil::l7 {

struct BreakerSettings {
  uint32_t failures_to_open = 5;
  std::chrono::steady_clock::duration open_for = std::chrono::seconds(10);
  uint32_t half_open_probes = 1;
};

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed, kOpen, kHalfOpen };

  // Whether a request may go now, and whether it goes as one of half-open's probes.
  enum class Admission { kRefused, kAllowed, kProbe };

  explicit CircuitBreaker(BreakerSettings s) : s_(s) {}

  Admission admit(Clock::time_point now);
  // The upstream's answer to a request admit() let through (`probe`: as a probe). In
  // half-open only a probe's answer counts: one from a request let through while closed is
  // late news of the time before, and ignored.
  void record(bool ok, bool probe, Clock::time_point now);
  // A request admit() let through as a probe went without an answer that says anything of
  // the upstream (its client left first, or reset it): its turn is given back at once, for
  // the next request to probe, rather than after open_for.
  void release_probe();
  State state(Clock::time_point now) const;
  const BreakerSettings& settings() const { return s_; }

 private:
  BreakerSettings s_;
  State state_ = State::kClosed;
  uint32_t failures_ = 0;
  uint32_t probes_ = 0;  // in flight, half-open
  Clock::time_point opened_{};
  Clock::time_point probe_sent_{};
};

std::string_view name_of(CircuitBreaker::State s);

}  // namespace vigil::l7

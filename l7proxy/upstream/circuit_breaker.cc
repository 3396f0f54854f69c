#include "l7proxy/upstream/circuit_breaker.h"

#include <algorithm>

namespace vigil::l7 {

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  if (state_ == State::kOpen && now - opened_ >= s_.open_for) {
    return State::kHalfOpen;
  }
  return state_;
}

CircuitBreaker::Admission CircuitBreaker::admit(Clock::time_point now) {
  if (state_ == State::kOpen && now - opened_ >= s_.open_for) {
    state_ = State::kHalfOpen;
    probes_ = 0;
  }
  switch (state_) {
    case State::kClosed:
      return Admission::kAllowed;
    case State::kOpen:
      return Admission::kRefused;
    case State::kHalfOpen:
      // A probe whose result never came (its client went) frees its turn after open_for.
      if (probes_ >= std::max<uint32_t>(s_.half_open_probes, 1) &&
          now - probe_sent_ < s_.open_for) {
        return Admission::kRefused;
      }
      if (probes_ >= std::max<uint32_t>(s_.half_open_probes, 1)) {
        probes_ = 0;
      }
      ++probes_;
      probe_sent_ = now;
      return Admission::kProbe;
  }
  return Admission::kRefused;
}

void CircuitBreaker::record(bool ok, bool probe, Clock::time_point now) {
  if (state_ == State::kHalfOpen) {
    if (!probe || probes_ == 0) {
      return;  // not a probe's: a late answer from before it opened
    }
    --probes_;
    if (ok) {
      state_ = State::kClosed;
      failures_ = 0;
    } else {
      state_ = State::kOpen;
      opened_ = now;
    }
    return;
  }
  if (state_ == State::kOpen) {
    return;  // a late answer from before it opened
  }
  if (ok) {
    failures_ = 0;
  } else if (++failures_ >= s_.failures_to_open) {
    state_ = State::kOpen;
    opened_ = now;
    failures_ = 0;
  }
}

void CircuitBreaker::release_probe() {
  if (state_ == State::kHalfOpen && probes_ > 0) {
    --probes_;
  }
}

std::string_view name_of(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "closed";
}

}  // namespace vigil::l7

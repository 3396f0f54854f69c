// A backend's health as its active checks say: unhealthy after `fall` failed checks in a row,
// healthy again after `rise` passed in a row (HAProxy's rise and fall), so one lost probe
// neither drops a backend nor one lucky answer restores it. A new backend is unhealthy until
// its first check passes (Envoy's rule): no request goes to a backend never seen to answer.
#pragma once

#include <cstdint>

namespace vigil::l7 {

struct HealthThresholds {
  uint32_t rise = 2;
  uint32_t fall = 3;
  bool operator==(const HealthThresholds&) const = default;
};

class HealthState {
 public:
  explicit HealthState(HealthThresholds t) : t_(t) {}

  // A check's result; true when it changed the state.
  bool record(bool passed);
  bool healthy() const { return healthy_; }
  bool checked() const { return checked_; }
  // Results in a row that disagree with the state (toward the next change).
  uint32_t against() const { return against_; }

 private:
  HealthThresholds t_;
  bool healthy_ = false;
  bool checked_ = false;
  uint32_t against_ = 0;
};

}  // namespace vigil::l7

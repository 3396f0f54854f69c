// Passive outlier detection: what real requests say of a backend between active checks. A
// run of 5xx answers or of failed connects ejects it for a time that grows with each ejection
// (30 s, 60 s, ... up to 5 min, as Envoy does), and a success resets the run. An ejection that
// ends lets the backend take requests again at once; one that has not recurred for the
// longest ejection time brings the multiplier back to one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace vigil::l7 {

struct OutlierSettings {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_connect_failures = 3;
  std::chrono::steady_clock::duration base_ejection = std::chrono::seconds(30);
  std::chrono::steady_clock::duration max_ejection = std::chrono::minutes(5);
};

enum class Outcome { kSuccess, kServerError, kConnectFailure };

class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;
  explicit OutlierDetector(OutlierSettings s) : s_(s) {}
  // New thresholds (a commit), keeping the runs and any ejection under way.
  void configure(OutlierSettings s) { s_ = s; }

  // A request's outcome; true when it ejected the backend.
  bool record(Outcome o, Clock::time_point now);
  bool ejected(Clock::time_point now) const { return until_ && now < *until_; }
  std::optional<Clock::time_point> ejected_until() const { return until_; }
  uint32_t ejections() const { return ejections_; }

 private:
  OutlierSettings s_;
  uint32_t server_errors_ = 0;
  uint32_t connect_failures_ = 0;
  uint32_t multiplier_ = 0;  // of base_ejection for the next ejection
  uint32_t ejections_ = 0;   // in all
  std::optional<Clock::time_point> until_;
};

}  // namespace vigil::l7

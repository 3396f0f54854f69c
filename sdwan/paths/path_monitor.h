// One path's state, from its probes: up, degraded (heard, but past its SLA, or back from down
// and not yet held) or down (the last `down_after` probes missed). Heard is both ways: a probe
// from the peer that echoes a newer one of ours (PathStats::last_confirmed_ns), so a path that
// fails in one direction is down at both ends. The caller evaluates after each probe received
// and at least every interval: how often it does bounds how late a failure is seen. Up takes
// meeting the terms for `hold` without a break, so a path that flaps is not readmitted on every
// good second; a path down and heard `down_after` times in a row is degraded at once, usable when
// nothing better is up (a site with one link is not cut off for the hold time by a blip); a path
// never up yet is up once heard `down_after` times in a row, so a new site carries traffic in tens
// of milliseconds rather than after a hold. Every change says why (Transition), for the log, the
// counters and `vigil show paths`. Pure: the caller's clock, no allocation.
//
// A gap between two evaluations longer than an interval means this side was away (its lcore
// descheduled, the VM's CPU stolen): the probes that arrived meanwhile are still queued, so
// the time it was away is not counted as the path's silence. Otherwise one stall of the box's
// own thread would take every path down at once and hold each out of use for the hold time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sdwan/paths/path_stats.h"

namespace vigil::paths {

enum class PathState : uint8_t { kDown, kDegraded, kUp };
const char* name(PathState s);

// The terms a path must meet to be up (each optional).
struct PathSla {
  std::optional<int64_t> max_rtt_ns;
  std::optional<int64_t> max_jitter_ns;
  std::optional<double> max_loss;  // 0 to 1, over the last second, the worse direction
  bool operator==(const PathSla&) const = default;
};

struct PathTiming {
  int64_t interval_ns = 10'000'000;  // a probe each way every 10 ms
  uint32_t down_after = 3;           // missed in a row
  int64_t hold_ns = 10'000'000'000;  // 10 s of meeting the terms before readmission
};

enum class Cause : uint8_t {
  kProbesMissed,  // nothing heard for down_after intervals
  kRtt,           // the RTT (EWMA) past the SLA
  kJitter,
  kLoss,
  kHeld,        // met the terms for the hold time
  kFirstHeard,  // a path never up, heard down_after times in a row
  kHeardAgain,  // a path down, heard down_after times in a row: degraded until held
};
const char* name(Cause c);

struct Transition {
  PathState from = PathState::kDown, to = PathState::kDown;
  Cause cause = Cause::kProbesMissed;
  int64_t at_ns = 0;
  // The measurement behind it (the RTT or jitter in ns, the loss ratio), for the log.
  double value = 0;
};
// "up -> degraded: loss 12.0% over the SLA", and the like.
std::string describe(const Transition& t, const PathSla& sla);

class PathMonitor {
 public:
  PathMonitor() = default;
  PathMonitor(PathTiming timing, PathSla sla) : timing_(timing), sla_(sla) {}

  // Time passed or a probe arrived: the change it makes, if any. Call after each probe
  // received and on each interval; between calls nothing changes.
  std::optional<Transition> evaluate(const PathStats& stats, int64_t now_ns);

  PathState state() const { return state_; }
  const PathTiming& timing() const { return timing_; }
  const PathSla& sla() const { return sla_; }
  // When the state last changed (0: never).
  int64_t since_ns() const { return since_ns_; }

 private:
  struct Breach {
    bool broken = false;
    Cause cause = Cause::kRtt;
    double value = 0;
  };
  // The first SLA term the path breaks now, and its value.
  Breach breach(const PathStats& stats, int64_t now_ns) const;
  Transition change(PathState to, Cause cause, int64_t now_ns, double value);

  PathTiming timing_;
  PathSla sla_;
  PathState state_ = PathState::kDown;
  bool ever_up_ = false;
  int64_t since_ns_ = 0;
  // Since when the path has met the SLA without a break (0: it does not now).
  int64_t good_since_ns_ = 0;
  uint32_t heard_in_a_row_ = 0;
  int64_t counted_heard_ns_ = 0;
  // The last evaluation, and the last time this side was away: from one evaluation to the
  // next, more than an interval apart (0 and 0: never).
  int64_t evaluated_ns_ = 0;
  int64_t away_from_ns_ = 0, away_to_ns_ = 0;
};

}  // namespace vigil::paths

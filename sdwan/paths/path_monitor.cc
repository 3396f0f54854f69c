#include "sdwan/paths/path_monitor.h"

#include <algorithm>
#include <cstdio>

namespace vigil::paths {

const char* name(PathState s) {
  switch (s) {
    case PathState::kDown:
      return "down";
    case PathState::kDegraded:
      return "degraded";
    case PathState::kUp:
      return "up";
  }
  return "?";
}

const char* name(Cause c) {
  switch (c) {
    case Cause::kProbesMissed:
      return "probes_missed";
    case Cause::kRtt:
      return "rtt";
    case Cause::kJitter:
      return "jitter";
    case Cause::kLoss:
      return "loss";
    case Cause::kHeld:
      return "held";
    case Cause::kFirstHeard:
      return "first_heard";
    case Cause::kHeardAgain:
      return "heard_again";
  }
  return "?";
}

std::string describe(const Transition& t, const PathSla& sla) {
  char why[160];
  const double ms = t.value / 1e6;
  switch (t.cause) {
    case Cause::kProbesMissed:
      std::snprintf(why, sizeof why, "nothing heard for %.0f ms", ms);
      break;
    case Cause::kRtt:
      std::snprintf(why, sizeof why, "rtt %.1f ms over the SLA's %.1f ms", ms,
                    static_cast<double>(sla.max_rtt_ns.value_or(0)) / 1e6);
      break;
    case Cause::kJitter:
      std::snprintf(why, sizeof why, "jitter %.1f ms over the SLA's %.1f ms", ms,
                    static_cast<double>(sla.max_jitter_ns.value_or(0)) / 1e6);
      break;
    case Cause::kLoss:
      std::snprintf(why, sizeof why, "loss %.1f%% over the SLA's %.1f%%", t.value * 100,
                    sla.max_loss.value_or(0) * 100);
      break;
    case Cause::kHeld:
      std::snprintf(why, sizeof why, "met its terms for %.0f s", t.value / 1e9);
      break;
    case Cause::kFirstHeard:
      std::snprintf(why, sizeof why, "heard for the first time");
      break;
    case Cause::kHeardAgain:
      std::snprintf(why, sizeof why, "heard again; up after its hold time");
      break;
  }
  return std::string(name(t.from)) + " -> " + name(t.to) + ": " + why;
}

PathMonitor::Breach PathMonitor::breach(const PathStats& stats, int64_t now_ns) const {
  const auto rtt = stats.rtt_ns();
  if (sla_.max_rtt_ns && rtt && *rtt > *sla_.max_rtt_ns) {
    return {.broken = true, .cause = Cause::kRtt, .value = static_cast<double>(*rtt)};
  }
  if (sla_.max_jitter_ns && stats.jitter_ns() > *sla_.max_jitter_ns) {
    return {
        .broken = true, .cause = Cause::kJitter, .value = static_cast<double>(stats.jitter_ns())};
  }
  if (sla_.max_loss) {
    if (const double loss = stats.loss_1s(now_ns); loss > *sla_.max_loss) {
      return {.broken = true, .cause = Cause::kLoss, .value = loss};
    }
  }
  return {};
}

Transition PathMonitor::change(PathState to, Cause cause, int64_t now_ns, double value) {
  const Transition t{.from = state_, .to = to, .cause = cause, .at_ns = now_ns, .value = value};
  state_ = to;
  since_ns_ = now_ns;
  if (to != PathState::kDown) {
    ever_up_ = true;
  }
  return t;
}

std::optional<Transition> PathMonitor::evaluate(const PathStats& stats, int64_t now_ns) {
  // Heard means both ways: the peer's probes arrive and echo ours. A peer probing more slowly
  // than we do is given its own interval.
  if (evaluated_ns_ != 0 && now_ns - evaluated_ns_ > timing_.interval_ns) {
    away_from_ns_ = evaluated_ns_;
    away_to_ns_ = now_ns;
  }
  evaluated_ns_ = std::max(evaluated_ns_, now_ns);
  const int64_t last = stats.last_confirmed_ns();
  const int64_t away = std::max<int64_t>(0, away_to_ns_ - std::max(last, away_from_ns_));
  const int64_t silence = last == 0 ? now_ns : now_ns - last - away;
  const int64_t interval = std::max(timing_.interval_ns, stats.peer_interval_ns());
  const bool heard = last != 0 && silence <= interval * timing_.down_after;
  if (!heard) {
    good_since_ns_ = 0;
    heard_in_a_row_ = 0;
  } else {
    if (last != counted_heard_ns_) {
      counted_heard_ns_ = last;
      ++heard_in_a_row_;
    }
  }
  const Breach broken = heard ? breach(stats, now_ns) : Breach{};
  const bool good = heard && !broken.broken;
  if (!good) {
    good_since_ns_ = 0;
  } else if (good_since_ns_ == 0) {
    good_since_ns_ = now_ns;
  }
  const bool held = good && now_ns - good_since_ns_ >= timing_.hold_ns;
  switch (state_) {
    case PathState::kUp:
      if (!heard) {
        return change(PathState::kDown, Cause::kProbesMissed, now_ns, static_cast<double>(silence));
      }
      if (broken.broken) {
        return change(PathState::kDegraded, broken.cause, now_ns, broken.value);
      }
      return std::nullopt;
    case PathState::kDegraded:
      if (!heard) {
        return change(PathState::kDown, Cause::kProbesMissed, now_ns, static_cast<double>(silence));
      }
      if (held) {
        return change(PathState::kUp, Cause::kHeld, now_ns,
                      static_cast<double>(now_ns - good_since_ns_));
      }
      return std::nullopt;
    case PathState::kDown:
      if (!ever_up_) {
        if (heard_in_a_row_ < timing_.down_after) {
          return std::nullopt;
        }
        return broken.broken ? change(PathState::kDegraded, broken.cause, now_ns, broken.value)
                             : change(PathState::kUp, Cause::kFirstHeard, now_ns, 0);
      }
      // Heard again: degraded at once (usable when nothing better is up, so a site with one
      // link is not cut off for the hold time by a blip), up only after the hold time.
      if (heard_in_a_row_ >= timing_.down_after) {
        return change(PathState::kDegraded, Cause::kHeardAgain, now_ns, 0);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace vigil::paths

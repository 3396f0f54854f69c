// A path's state over scripted probe sequences: a new path is up after three probes; three
// missed make it down at once; back, it is degraded after three probes and waits out the hold
// time before it is up again, and a flap restarts the wait; a path past its SLA is degraded and
// readmitted only after meeting it for the hold time; every change says why; the time this
// side itself was away is not counted as silence.
#include "sdwan/paths/path_monitor.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::paths {
namespace {

constexpr int64_t kMs = 1'000'000;

class PathMonitorTest : public ::testing::Test {
 protected:
  // The peer's probes every 10 ms from `from_ms` to `to_ms`, one way `delay_ms` (round trip
  // twice that: our echoed probes come back as fast), the monitor evaluated at each; the
  // transitions seen.
  std::vector<Transition> heard(int from_ms, int to_ms, int delay_ms = 5, int lose_every = 0) {
    std::vector<Transition> seen;
    for (int t = from_ms; t < to_ms; t += 10) {
      const int64_t now = int64_t{t} * kMs;
      const bool lost = lose_every > 0 && (t / 10) % lose_every == 0;
      ++peer_sequence_;  // sent, whether it arrives or not
      if (echoes_advance_) {
        ours_ = stats_.probe(0, now).sequence;
      }
      if (!lost) {
        // The peer echoes our latest probe (as if sent a round trip ago).
        ProbeMessage m{.sequence = peer_sequence_,
                       .sent_ns = now - delay_ms * kMs,
                       .echo_sequence = ours_,
                       .echo_sent_ns = now - int64_t{2} * delay_ms * kMs,
                       .echo_received_ns = now - delay_ms * kMs,
                       .received = ours_};
        stats_.received(m, now);
      }
      if (auto tr = monitor_.evaluate(stats_, now)) {
        seen.push_back(*tr);
      }
    }
    return seen;
  }
  // Nothing from the peer; evaluated every 10 ms.
  std::vector<Transition> silent(int from_ms, int to_ms) {
    std::vector<Transition> seen;
    for (int t = from_ms; t < to_ms; t += 10) {
      if (auto tr = monitor_.evaluate(stats_, int64_t{t} * kMs)) {
        seen.push_back(*tr);
      }
    }
    return seen;
  }

  PathStats stats_;
  PathMonitor monitor_{PathTiming{}, PathSla{.max_rtt_ns = 100 * kMs, .max_loss = 0.05}};
  uint32_t peer_sequence_ = 0, ours_ = 0;
  bool echoes_advance_ = true;  // false: our probes no longer reach the peer
};

TEST_F(PathMonitorTest, ANewPathIsUpAfterThreeProbesAndDownAfterThreeMissed) {
  EXPECT_EQ(monitor_.state(), PathState::kDown);
  auto seen = heard(1000, 1030);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kUp);
  EXPECT_EQ(seen[0].cause, Cause::kFirstHeard);
  EXPECT_EQ(seen[0].at_ns, 1020 * kMs) << "the third probe";
  heard(1030, 2000);
  // Last heard at 1990: down once more than 30 ms pass without a probe.
  seen = silent(2000, 2100);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].from, PathState::kUp);
  EXPECT_EQ(seen[0].to, PathState::kDown);
  EXPECT_EQ(seen[0].cause, Cause::kProbesMissed);
  EXPECT_EQ(seen[0].at_ns, 2030 * kMs);
  EXPECT_EQ(describe(seen[0], monitor_.sla()), "up -> down: nothing heard for 40 ms");
}

TEST_F(PathMonitorTest, BackFromDownItWaitsTheHoldTimeAndAFlapRestartsIt) {
  heard(0, 1000);
  silent(1000, 1100);
  ASSERT_EQ(monitor_.state(), PathState::kDown);
  // Heard three times again: degraded (usable when nothing better is up), not up.
  auto seen = heard(1100, 6000);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDegraded);
  EXPECT_EQ(seen[0].cause, Cause::kHeardAgain);
  EXPECT_EQ(seen[0].at_ns, 1120 * kMs);
  EXPECT_EQ(silent(6000, 6100).size(), 1u) << "a flap: down again";
  seen = heard(6100, 16000);
  ASSERT_EQ(seen.size(), 1u) << "degraded again; the wait started again at 6.1 s";
  EXPECT_EQ(seen[0].to, PathState::kDegraded);
  seen = heard(16000, 16200);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kUp);
  EXPECT_EQ(seen[0].cause, Cause::kHeld);
  EXPECT_EQ(seen[0].at_ns, 16100 * kMs);
  EXPECT_EQ(describe(seen[0], monitor_.sla()), "degraded -> up: met its terms for 10 s");
}

TEST_F(PathMonitorTest, PastItsSlaAPathIsDegradedAndReadmittedAfterTheHoldTime) {
  heard(0, 1000);
  // 20% loss: past the 5% of the SLA within the second.
  auto seen = heard(1000, 2000, 5, 5);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDegraded);
  EXPECT_EQ(seen[0].cause, Cause::kLoss);
  EXPECT_EQ(describe(seen[0], monitor_.sla()).substr(0, 19), "up -> degraded: los");
  // Clean again: a second to clear the loss window, then the hold time.
  seen = heard(2000, 14000);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kUp);
  EXPECT_GE(seen[0].at_ns, 12000 * kMs);
  EXPECT_LE(seen[0].at_ns, 13100 * kMs);
}

TEST_F(PathMonitorTest, ASlowPathIsDegradedByItsRoundTrip) {
  heard(0, 500);
  const auto seen = heard(500, 3000, 80);  // 160 ms round trips, against 100 ms
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDegraded);
  EXPECT_EQ(seen[0].cause, Cause::kRtt);
  EXPECT_GT(seen[0].value, 100.0 * kMs);
}

TEST_F(PathMonitorTest, AFirstPathPastItsSlaStartsDegraded) {
  const auto seen = heard(1000, 1100, 80);  // a steady clock is well past 0
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDegraded);
  EXPECT_EQ(seen[0].cause, Cause::kRtt);
}

// This side away for 210 ms (its lcore descheduled): back, it evaluates before it reads the
// probes that arrived meanwhile. Its own absence is not the path's silence, so nothing changes.
TEST_F(PathMonitorTest, TheTimeThisSideWasAwayIsNotThePathsSilence) {
  heard(0, 1000);
  ASSERT_EQ(monitor_.state(), PathState::kUp);
  EXPECT_FALSE(monitor_.evaluate(stats_, 1200 * kMs).has_value());
  EXPECT_TRUE(heard(1200, 3000).empty());
  EXPECT_EQ(monitor_.state(), PathState::kUp);
}

// A path that died while this side was away is down as many intervals after its return as it
// would have been after its last probe, and says how long it was silent while watched.
TEST_F(PathMonitorTest, APathThatDiedWhileThisSideWasAwayIsDownSoonAfterItsReturn) {
  heard(0, 1000);  // last heard, and evaluated, at 990
  const auto seen = silent(1200, 1400);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDown);
  EXPECT_EQ(seen[0].at_ns, 1240 * kMs);
  EXPECT_EQ(describe(seen[0], monitor_.sla()), "up -> down: nothing heard for 40 ms");
  // Away again later, the silence before it still counts: down stays down.
  EXPECT_TRUE(silent(2000, 2100).empty());
  EXPECT_EQ(monitor_.state(), PathState::kDown);
}

// The peer's probes still arrive, but ours no longer reach it (its echoes stop advancing): the
// traffic we send that way is lost, so the path is down here too.
TEST_F(PathMonitorTest, AOneWayFailureIsDownAtBothEnds) {
  heard(0, 1000);
  ASSERT_EQ(monitor_.state(), PathState::kUp);
  echoes_advance_ = false;
  const auto seen = heard(1000, 1100);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, PathState::kDown);
  EXPECT_EQ(seen[0].cause, Cause::kProbesMissed);
  EXPECT_LE(seen[0].at_ns, 1040 * kMs);
}

// A peer probing every 50 ms (its path class says so) while we probe every 10: silence between
// its probes is not loss.
TEST_F(PathMonitorTest, APeerThatProbesMoreSlowlyIsGivenItsInterval) {
  std::vector<Transition> seen;
  uint32_t peer_sequence = 0;
  for (int t = 0; t < 3000; t += 10) {
    const int64_t now = int64_t{t} * kMs;
    const uint32_t ours = stats_.probe(0, now).sequence;
    if (t % 50 == 0) {
      stats_.received({.interval_ms = 50,
                       .sequence = ++peer_sequence,
                       .sent_ns = now,
                       .echo_sequence = ours,
                       .echo_sent_ns = now,
                       .echo_received_ns = now,
                       .received = ours},
                      now);
    }
    if (auto tr = monitor_.evaluate(stats_, now)) {
      seen.push_back(*tr);
    }
  }
  ASSERT_EQ(seen.size(), 1u) << describe(seen.back(), monitor_.sla());
  EXPECT_EQ(seen[0].to, PathState::kUp);
}

}  // namespace
}  // namespace vigil::paths

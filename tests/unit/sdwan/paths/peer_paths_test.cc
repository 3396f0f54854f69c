// One peer's paths between two ends that probe each other every 10 ms, over links the test
// cuts and restores: traffic takes the first path up; a cut path is down within four
// intervals and traffic moves to the next at once; restored, it takes traffic back only after
// its hold time (counted once its outage's loss is out of the last second); probes keep to their
// 10 ms grid; changing the paths keeps what stays.
#include "sdwan/paths/peer_paths.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace vigil::paths {
namespace {

constexpr int64_t kMs = 1'000'000;
const std::vector<PathKey> kTwoLinks{{.link = 0, .endpoint = 0}, {.link = 1, .endpoint = 0}};

// Two ends of the same paths and the wire between them: each path delivers after 5 ms unless
// it is cut.
class PeerPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.set_paths(kTwoLinks);
    b_.set_paths(kTwoLinks);
  }
  // Runs the ends from now_ to `until_ms`, a millisecond at a time; A's path changes.
  std::vector<PathEvent> run_until(int64_t until_ms) {
    std::vector<PathEvent> seen;
    for (; now_ < until_ms * kMs; now_ += kMs) {
      while (!wire_.empty() && wire_.front().at <= now_) {
        const InFlight f = wire_.front();
        wire_.pop_front();
        (f.to_a ? a_ : b_).received(f.path, f.m, now_);
      }
      for (PeerPaths* end : {&a_, &b_}) {
        std::array<uint16_t, kMaxPaths> due{};
        const size_t n = end->due(now_, due);
        for (size_t k = 0; k < n; ++k) {
          const ProbeMessage m = end->probe(due[k], now_);
          if (!cut_[due[k]]) {
            wire_.push_back({now_ + 5 * kMs, due[k], m, end == &b_});
          }
        }
      }
      std::array<PathEvent, kMaxPaths> events{};
      const size_t n = a_.evaluate(now_, events);
      seen.insert(seen.end(), events.begin(), events.begin() + static_cast<long>(n));
      (void)b_.evaluate(now_, events);
    }
    return seen;
  }

  struct InFlight {
    int64_t at;
    size_t path;
    ProbeMessage m;
    bool to_a;
  };
  PeerPaths a_{PathTiming{}, PathSla{.max_loss = 0.2}};
  PeerPaths b_{PathTiming{}, PathSla{.max_loss = 0.2}};
  std::deque<InFlight> wire_;
  std::array<bool, kMaxPaths> cut_{};
  int64_t now_ = 0;
};

TEST_F(PeerPathsTest, TrafficTakesTheFirstPathUpAndMovesAtOnceWhenItIsCut) {
  EXPECT_FALSE(a_.active().has_value()) << "nothing heard yet";
  run_until(1000);
  ASSERT_EQ(a_.active(), 0u);
  EXPECT_EQ(a_.monitor(1).state(), PathState::kUp) << "the backup is up too";
  ASSERT_TRUE(a_.stats(0).rtt_ns().has_value());
  EXPECT_NEAR(static_cast<double>(*a_.stats(0).rtt_ns()), 10.0 * kMs, 1.0 * kMs);

  cut_[0] = true;  // both ways
  const auto seen = run_until(1100);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, 0u);
  EXPECT_EQ(seen[0].transition.to, PathState::kDown);
  // The last probe through arrived at 995 ms (sent at 990): down once more than 30 ms passed.
  EXPECT_LE(seen[0].transition.at_ns, 1040 * kMs);
  EXPECT_EQ(a_.active(), 1u) << "the next path, in the same evaluation";
}

TEST_F(PeerPathsTest, ARestoredPathTakesTrafficBackOnlyAfterItsHoldTime) {
  run_until(1000);
  cut_[0] = true;
  run_until(2000);
  ASSERT_EQ(a_.active(), 1u);
  cut_[0] = false;
  // Heard again from 2 s; the probes lost meanwhile count as loss for a second, past the SLA's
  // 20%; then 10 s of meeting it.
  auto seen = run_until(12'900);
  ASSERT_EQ(seen.size(), 1u) << "degraded once heard again; not held for 10 s yet";
  EXPECT_EQ(seen[0].transition.to, PathState::kDegraded);
  EXPECT_EQ(seen[0].transition.cause, Cause::kHeardAgain);
  EXPECT_EQ(a_.active(), 1u) << "the backup is up: a degraded path waits behind it";
  seen = run_until(13'100);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].transition.to, PathState::kUp);
  EXPECT_EQ(seen[0].transition.cause, Cause::kHeld);
  EXPECT_EQ(a_.active(), 0u) << "back, at readmission";
}

TEST_F(PeerPathsTest, ProbesKeepToTheirGrid) {
  PeerPaths p(PathTiming{}, PathSla{});
  p.set_paths(kTwoLinks);
  std::array<uint16_t, kMaxPaths> due{};
  EXPECT_EQ(p.due(100 * kMs, due), 2u) << "both at once, first";
  EXPECT_EQ(p.due(105 * kMs, due), 0u);
  EXPECT_EQ(p.due(112 * kMs, due), 2u) << "due at 110";
  EXPECT_EQ(p.due(119 * kMs, due), 0u) << "next due at 120, not 122";
  EXPECT_EQ(p.due(120 * kMs, due), 2u);
  EXPECT_EQ(p.due(500 * kMs, due), 2u) << "the lcore was away";
  EXPECT_EQ(p.due(505 * kMs, due), 0u);
  EXPECT_EQ(p.due(510 * kMs, due), 2u) << "a new grid from 500";
  std::array<uint16_t, 1> one{};
  EXPECT_EQ(p.due(520 * kMs, one), 1u) << "no more than asked for";
  EXPECT_EQ(p.due(520 * kMs, one), 1u) << "the other one next";
}

TEST_F(PeerPathsTest, ChangingThePathsKeepsWhatStays) {
  run_until(1000);
  const uint64_t received = a_.stats(1).snapshot(now_).received;
  ASSERT_GT(received, 0u);
  // A third link first, the old second path second: it keeps its state and statistics.
  const std::vector<PathKey> changed{{.link = 2, .endpoint = 0}, {.link = 1, .endpoint = 0}};
  a_.set_paths(changed);
  ASSERT_EQ(a_.size(), 2u);
  EXPECT_EQ(a_.key(0), (PathKey{.link = 2, .endpoint = 0}));
  EXPECT_EQ(a_.monitor(0).state(), PathState::kDown) << "new";
  EXPECT_EQ(a_.monitor(1).state(), PathState::kUp) << "kept";
  EXPECT_EQ(a_.stats(1).snapshot(now_).received, received);
  EXPECT_EQ(a_.active(), 1u);
  const ProbeMessage m = a_.probe(0, now_);
  EXPECT_EQ(m.link, 2);
  EXPECT_EQ(m.sequence, 1u);
  EXPECT_EQ(m.echo_sequence, 0u) << "nothing heard on it";
}

TEST_F(PeerPathsTest, ASiteWithOneLinkIsNotCutOffForTheHoldTimeByABlip) {
  const std::vector<PathKey> one{{.link = 0, .endpoint = 0}};
  a_.set_paths(one);
  b_.set_paths(one);
  run_until(1000);
  ASSERT_EQ(a_.active(), 0u);
  cut_[0] = true;
  run_until(1050);
  EXPECT_FALSE(a_.active().has_value()) << "down: nothing to send on";
  cut_[0] = false;
  run_until(1090);
  EXPECT_EQ(a_.active(), 0u) << "three probes heard again: degraded, and carrying";
  EXPECT_EQ(a_.monitor(0).state(), PathState::kDegraded);
}

// A path that goes and comes back (its link removed and given again, say) is measured from the
// start under a new epoch: under the old one the peer would take its sequence numbers,
// starting again at 1, for old probes, and never echo them; it would stay down here while the
// peer, hearing our echoes, called it up.
TEST_F(PeerPathsTest, APathThatComesBackIsUpAgainUnderANewEpoch) {
  run_until(1000);
  const uint32_t first = a_.probe(0, now_).epoch;
  const std::vector<PathKey> one{kTwoLinks[1]};
  a_.set_paths(one);
  a_.set_paths(kTwoLinks);
  EXPECT_NE(a_.probe(0, now_).epoch, first);
  EXPECT_EQ(a_.probe(0, now_).sequence, 2u) << "from the start (one probe just now)";
  run_until(1100);
  EXPECT_EQ(a_.monitor(0).state(), PathState::kUp);
  EXPECT_EQ(b_.stats(0).snapshot(now_).peer_epochs, 2u);
}

// The same end made again (a PeerPaths of its own, as the lcore makes one when the interval
// changes) with another range of epochs: the peer measures it again at once.
TEST_F(PeerPathsTest, AnEndMadeAgainIsMeasuredAgainAtOnce) {
  run_until(1000);
  a_ = PeerPaths(PathTiming{}, PathSla{.max_loss = 0.2}, 1u << 16);
  a_.set_paths(kTwoLinks);
  run_until(1100);
  EXPECT_EQ(a_.monitor(0).state(), PathState::kUp);
  EXPECT_EQ(a_.active(), 0u);
}

}  // namespace
}  // namespace vigil::paths

// Which path each class takes, over two paths the test degrades: a class with an SLA leaves a
// path that breaks it at once and comes back only after the hold time; a class without one
// stays; ordered follows its link order; load-balance spreads flows and moves only those on
// a path that left.
#include "sdwan/paths/class_paths.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>

namespace vigil::paths {
namespace {

constexpr int64_t kMs = 1'000'000;

class ClassPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<PathKey> keys{{.link = 0, .endpoint = 0}, {.link = 1, .endpoint = 0}};
    a_.set_paths(keys);
    b_.set_paths(keys);
    PathClass voice;
    voice.rules.push_back({.protocol = ClassRule::Protocol::kUdp});
    voice.sla = PathSla{.max_rtt_ns = 40 * kMs};
    PathClass bulk;  // no terms: any path up
    bulk.rules.push_back({.protocol = ClassRule::Protocol::kTcp});
    PathClass backup_first;
    backup_first.rules.push_back({.protocol = ClassRule::Protocol::kIcmp});
    backup_first.link_rank = {1, 0, 2, 3, 4, 5, 6, 7};
    PathClass spread;
    spread.rules.push_back({});
    spread.preference = Preference::kLoadBalance;
    classes_ = {voice, bulk, backup_first, spread};
  }
  // Both ends probe every 10 ms; path k delivers after delay_ms_[k]; A's classes evaluated
  // every millisecond.
  void run_until(int64_t until_ms) {
    for (; now_ < until_ms * kMs; now_ += kMs) {
      std::stable_sort(wire_.begin(), wire_.end(),
                       [](const InFlight& x, const InFlight& y) { return x.at < y.at; });
      while (!wire_.empty() && wire_.front().at <= now_) {
        const InFlight f = wire_.front();
        wire_.pop_front();
        (f.to_a ? a_ : b_).received(f.path, f.m, now_);
      }
      for (PeerPaths* end : {&a_, &b_}) {
        std::array<uint16_t, kMaxPaths> due{};
        const size_t n = end->due(now_, due);
        for (size_t k = 0; k < n; ++k) {
          wire_.push_back(
              {now_ + delay_ms_[due[k]] * kMs, due[k], end->probe(due[k], now_), end == &b_});
        }
      }
      std::array<PathEvent, kMaxPaths> events{};
      (void)a_.evaluate(now_, events);
      (void)b_.evaluate(now_, events);
      chosen_.evaluate(classes_, a_, now_);
    }
  }

  struct InFlight {
    int64_t at = 0;
    size_t path = 0;
    ProbeMessage m;
    bool to_a = false;
  };
  PeerPaths a_{PathTiming{}, PathSla{}};
  PeerPaths b_{PathTiming{}, PathSla{}, 1000};
  std::vector<PathClass> classes_;
  ClassPaths chosen_;
  std::deque<InFlight> wire_;
  std::array<int64_t, kMaxPaths> delay_ms_{5, 5};
  int64_t now_ = 0;
};

TEST_F(ClassPathsTest, AClassLeavesAPathPastItsTermsAndOthersStay) {
  EXPECT_EQ(chosen_.path_for(0, 1), std::nullopt) << "nothing evaluated yet";
  run_until(1000);
  EXPECT_EQ(chosen_.path_for(0, 1), 0u);
  EXPECT_EQ(chosen_.path_for(1, 1), 0u);
  EXPECT_EQ(chosen_.path_for(2, 1), 1u) << "its own link order: link 1 first";

  // Path 0 slows to 60 ms round trips, past voice's 40, a few milliseconds at a time (a step
  // of 25 ms at once would be a silence of 35 ms: down, for every class).
  for (int64_t d = 6; d <= 30; ++d) {
    delay_ms_[0] = d;
    run_until(1000 + (d - 5) * 40);
  }
  run_until(3000);
  ASSERT_EQ(a_.monitor(0).state(), PathState::kUp);
  EXPECT_EQ(chosen_.path_for(0, 1), 1u) << "voice moved";
  EXPECT_EQ(chosen_.path_for(1, 1), 0u) << "bulk stayed";
  EXPECT_FALSE(chosen_.admitted(0, 0));

  delay_ms_[0] = 5;
  run_until(5000);
  EXPECT_EQ(chosen_.path_for(0, 1), 1u) << "voice keeps its path while it meets the terms";
  EXPECT_FALSE(chosen_.admitted(0, 0)) << "path 0 meets them again, but not for 10 s yet";
  run_until(16'000);
  EXPECT_TRUE(chosen_.admitted(0, 0)) << "held";
  EXPECT_EQ(chosen_.path_for(0, 1), 0u) << "ordered: back on the first path at readmission";
}

TEST_F(ClassPathsTest, LoadBalanceSpreadsFlowsAndMovesOnlyThoseOnAPathThatLeft) {
  run_until(1000);
  std::array<size_t, 200> before{};
  std::set<size_t> used;
  for (uint32_t f = 0; f < before.size(); ++f) {
    before[f] = *chosen_.path_for(3, f * 2654435761u);
    used.insert(before[f]);
  }
  EXPECT_EQ(used.size(), 2u) << "both paths carry flows";
  // Path 1 goes down (cut both ways): its flows move; path 0's stay where they were.
  delay_ms_[1] = 100'000;
  run_until(1100);
  for (uint32_t f = 0; f < before.size(); ++f) {
    const size_t now_on = *chosen_.path_for(3, f * 2654435761u);
    EXPECT_EQ(now_on, 0u);
  }
  EXPECT_EQ(a_.monitor(1).state(), PathState::kDown);
}

TEST_F(ClassPathsTest, NoPathMeetingTheTermsIsNone) {
  delay_ms_ = {30, 30};
  run_until(2000);
  EXPECT_EQ(chosen_.path_for(0, 1), std::nullopt) << "voice: the caller takes the first path up";
  EXPECT_EQ(chosen_.path_for(1, 1), 0u);
}

// A path already past a class's terms when first measured is taken only after meeting them
// for the hold time, as one that broke them while carrying the class.
TEST_F(ClassPathsTest, APathPastItsTermsFromTheStartWaitsTheHold) {
  delay_ms_[0] = 30;
  run_until(1000);
  EXPECT_FALSE(chosen_.admitted(0, 0));
  EXPECT_EQ(chosen_.path_for(0, 1), 1u);
  delay_ms_[0] = 5;
  run_until(5000);
  EXPECT_FALSE(chosen_.admitted(0, 0)) << "within the hold";
  run_until(12'000);
  EXPECT_TRUE(chosen_.admitted(0, 0));
}

// The paths published again unchanged (any commit): a path in its hold stays in it, and a
// class keeps its path; paths listed in another order keep what was decided of each.
TEST_F(ClassPathsTest, PathsPublishedAgainKeepWhatWasDecided) {
  run_until(1000);
  for (int64_t d = 6; d <= 30; ++d) {  // voice leaves path 0 (see above)
    delay_ms_[0] = d;
    run_until(1000 + (d - 5) * 40);
  }
  run_until(2500);
  delay_ms_[0] = 5;
  run_until(3000);
  ASSERT_FALSE(chosen_.admitted(0, 0));
  const std::array<int16_t, 2> same{0, 1};
  chosen_.remap(same, 2);
  run_until(3100);
  EXPECT_FALSE(chosen_.admitted(0, 0)) << "still in its hold";
  EXPECT_EQ(chosen_.path_for(0, 1), 1u);
  // The list reversed: path 0 is now at 1 and keeps its hold there.
  const std::array<int16_t, 2> swapped{1, 0};
  chosen_.remap(swapped, 2);
  EXPECT_FALSE(chosen_.admitted(0, 1));
  EXPECT_TRUE(chosen_.admitted(0, 0));
  EXPECT_EQ(chosen_.path_for(0, 1), 0u) << "voice's path, at its new place";
}

// Load-balance scores a flow against each path's identity, not its place: the paths listed in
// another order (a commit), each flow stays on the path it was on.
TEST_F(ClassPathsTest, LoadBalancedFlowsStayOnTheirPathWhenThePathsMove) {
  const std::vector<PathKey> keys{{.link = 0, .endpoint = 0, .id = 11},
                                  {.link = 1, .endpoint = 0, .id = 22}};
  a_.set_paths(keys);
  b_.set_paths(keys);
  run_until(1000);
  std::array<uint32_t, 100> on{};
  for (uint32_t f = 0; f < on.size(); ++f) {
    on[f] = a_.key(*chosen_.path_for(3, f * 2654435761u)).id;
  }
  const std::vector<PathKey> reversed{keys[1], keys[0]};
  a_.set_paths(reversed);
  b_.set_paths(reversed);
  wire_.clear();
  const std::array<int16_t, 2> from{1, 0};
  chosen_.remap(from, 2);
  run_until(1100);
  for (uint32_t f = 0; f < on.size(); ++f) {
    EXPECT_EQ(a_.key(*chosen_.path_for(3, f * 2654435761u)).id, on[f]) << f;
  }
}

}  // namespace
}  // namespace vigil::paths

// Peak EWMA: a backend that turns slow is avoided at once, and comes back as its latency
// decays over seconds of fast answers.
#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(PeakEwmaTest, ASlowBackendIsAvoidedAtOnceAndForgivenSlowly) {
  auto b = test::make("peak-ewma", test::pool({1, 1}), 3);
  const std::vector<bool> all(2, true);
  BalancerClock::time_point now{};
  b->started(0);
  b->finished(0, milliseconds(5), now);
  b->started(0);
  b->started(0);  // two requests in flight on 0: it costs 5 ms x 3
  b->started(1);
  b->finished(1, milliseconds(500), now);  // one slow answer from 1: its peak, at once
  EXPECT_EQ(test::counts(*b, 2, 200, all)[1], 0) << "500 ms costs more than 15";
  // Fast answers from it, a second apart: after 5 s it is still avoided, after 60 s not.
  const auto answers = [&](int from, int to) {
    for (int s = from; s <= to; ++s) {
      b->started(1);
      b->finished(1, milliseconds(5), now + seconds(s));
    }
  };
  answers(1, 5);
  EXPECT_EQ(test::counts(*b, 2, 200, all)[1], 0) << "forgiven slowly";
  answers(6, 60);
  EXPECT_EQ(test::counts(*b, 2, 200, all)[1], 200) << "forgiven";
}

TEST(PeakEwmaTest, ABackendAvoidedIsTriedAgainAsItsLatencyAges) {
  // No sample comes from a backend nobody picks: its latency must age at pick time.
  auto b = test::make("peak-ewma", test::pool({1, 1}), 5);
  BalancerClock::time_point now{};
  b->started(0);
  b->finished(0, milliseconds(5), now);
  b->started(0);
  b->started(0);  // 0 costs 5 ms x 3
  b->started(1);
  b->finished(1, milliseconds(500), now);
  const auto picks_of_1 = [&](BalancerClock::time_point at) {
    int n = 0;
    for (int i = 0; i < 100; ++i) {
      n += *b->pick({.now = at}, std::vector<bool>(2, true)) == 1 ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(picks_of_1(now), 0);
  b->started(0);
  b->finished(0, milliseconds(5), now + seconds(60));  // 0 keeps answering in 5 ms
  EXPECT_EQ(picks_of_1(now + seconds(60)), 100) << "500 ms aged a minute is under 5 ms x 3";
}

TEST(PeakEwmaTest, ABackendNotHeardFromIsTried) {
  auto b = test::make("peak-ewma", test::pool({1, 1}), 9);
  b->started(0);
  b->finished(0, milliseconds(20), {});
  const auto got = test::counts(*b, 2, 1000, std::vector<bool>(2, true));
  EXPECT_GT(got[1], 300) << "unknown costs what the slowest known does";
}

}  // namespace
}  // namespace vigil::l7

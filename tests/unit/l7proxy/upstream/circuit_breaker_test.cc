// The breaker's three states with an injected clock: it opens after a run of failures,
// refuses while open, lets one probe through half-open, and closes or opens on its result.
#include "l7proxy/upstream/circuit_breaker.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

using std::chrono::seconds;
using State = CircuitBreaker::State;

TEST(CircuitBreakerTest, OpensRefusesProbesAndCloses) {
  CircuitBreaker b({.failures_to_open = 3, .open_for = seconds(10), .half_open_probes = 1});
  CircuitBreaker::Clock::time_point t{};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow(t));
    b.record(false, t);
  }
  b.record(true, t);  // a success breaks the run
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.allow(t));
    b.record(false, t);
  }
  EXPECT_EQ(b.state(t), State::kOpen);
  EXPECT_FALSE(b.allow(t + seconds(9)));
  EXPECT_EQ(b.state(t + seconds(10)), State::kHalfOpen);
  EXPECT_TRUE(b.allow(t + seconds(10))) << "one probe";
  EXPECT_FALSE(b.allow(t + seconds(10))) << "and only one";
  b.record(false, t + seconds(11));
  EXPECT_EQ(b.state(t + seconds(11)), State::kOpen) << "the probe failed: open again";
  EXPECT_FALSE(b.allow(t + seconds(20)));
  EXPECT_TRUE(b.allow(t + seconds(21)));
  b.record(true, t + seconds(21));
  EXPECT_EQ(b.state(t + seconds(21)), State::kClosed);
  EXPECT_TRUE(b.allow(t + seconds(21)));
  EXPECT_EQ(name_of(State::kHalfOpen), "half-open");
}

TEST(CircuitBreakerTest, AProbeThatNeverReportsFreesItsTurnAndLateAnswersAreIgnored) {
  CircuitBreaker b({.failures_to_open = 1, .open_for = seconds(10), .half_open_probes = 0});
  CircuitBreaker::Clock::time_point t{};
  ASSERT_TRUE(b.allow(t));
  b.record(false, t);
  ASSERT_TRUE(b.allow(t + seconds(10))) << "half-open: one probe even when 0 are configured";
  EXPECT_FALSE(b.allow(t + seconds(15)));
  EXPECT_TRUE(b.allow(t + seconds(20))) << "the first probe never answered: another";
  b.record(false, t + seconds(21));
  EXPECT_EQ(b.state(t + seconds(21)), State::kOpen);
  b.record(true, t + seconds(22));  // a late answer from before: not a probe's
  EXPECT_EQ(b.state(t + seconds(22)), State::kOpen);
}

}  // namespace
}  // namespace vigil::l7

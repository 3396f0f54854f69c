// The breaker's three states with an injected clock: it opens after a run of failures,
// refuses while open, lets one probe through half-open, and closes or opens on its result.
#include "l7proxy/upstream/circuit_breaker.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

using std::chrono::seconds;
using State = CircuitBreaker::State;
using Admission = CircuitBreaker::Admission;

TEST(CircuitBreakerTest, OpensRefusesProbesAndCloses) {
  CircuitBreaker b({.failures_to_open = 3, .open_for = seconds(10), .half_open_probes = 1});
  CircuitBreaker::Clock::time_point t{};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(b.admit(t), Admission::kAllowed);
    b.record(false, false, t);
  }
  b.record(true, false, t);  // a success breaks the run
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(b.admit(t), Admission::kAllowed);
    b.record(false, false, t);
  }
  EXPECT_EQ(b.state(t), State::kOpen);
  EXPECT_EQ(b.admit(t + seconds(9)), Admission::kRefused);
  EXPECT_EQ(b.state(t + seconds(10)), State::kHalfOpen);
  EXPECT_EQ(b.admit(t + seconds(10)), Admission::kProbe) << "one probe";
  EXPECT_EQ(b.admit(t + seconds(10)), Admission::kRefused) << "and only one";
  b.record(false, true, t + seconds(11));
  EXPECT_EQ(b.state(t + seconds(11)), State::kOpen) << "the probe failed: open again";
  EXPECT_EQ(b.admit(t + seconds(20)), Admission::kRefused);
  EXPECT_EQ(b.admit(t + seconds(21)), Admission::kProbe);
  b.record(true, true, t + seconds(21));
  EXPECT_EQ(b.state(t + seconds(21)), State::kClosed);
  EXPECT_EQ(b.admit(t + seconds(21)), Admission::kAllowed);
  EXPECT_EQ(name_of(State::kHalfOpen), "half-open");
}

TEST(CircuitBreakerTest, AProbeThatNeverReportsFreesItsTurnAndLateAnswersAreIgnored) {
  CircuitBreaker b({.failures_to_open = 1, .open_for = seconds(10), .half_open_probes = 0});
  CircuitBreaker::Clock::time_point t{};
  ASSERT_EQ(b.admit(t), Admission::kAllowed);  // a slow request, answered much later
  ASSERT_EQ(b.admit(t), Admission::kAllowed);
  b.record(false, false, t);
  ASSERT_EQ(b.admit(t + seconds(10)), Admission::kProbe)
      << "half-open: one probe even when 0 are configured";
  b.record(true, false, t + seconds(12));  // the slow request's answer: not the probe's
  EXPECT_EQ(b.state(t + seconds(12)), State::kHalfOpen);
  EXPECT_EQ(b.admit(t + seconds(15)), Admission::kRefused);
  EXPECT_EQ(b.admit(t + seconds(20)), Admission::kProbe) << "the first probe never answered";
  b.record(false, true, t + seconds(21));
  EXPECT_EQ(b.state(t + seconds(21)), State::kOpen);
  b.record(true, false, t + seconds(22));  // a late answer from before: not a probe's
  EXPECT_EQ(b.state(t + seconds(22)), State::kOpen);
}

TEST(CircuitBreakerTest, AProbeReleasedUnansweredLetsTheNextRequestProbeAtOnce) {
  CircuitBreaker b({.failures_to_open = 1, .open_for = seconds(10), .half_open_probes = 1});
  CircuitBreaker::Clock::time_point t{};
  b.record(false, false, t);
  ASSERT_EQ(b.admit(t + seconds(10)), Admission::kProbe);
  EXPECT_EQ(b.admit(t + seconds(10)), Admission::kRefused);
  b.release_probe();  // its client reset it before it went: it says nothing of the upstream
  EXPECT_EQ(b.state(t + seconds(10)), State::kHalfOpen);
  ASSERT_EQ(b.admit(t + seconds(10)), Admission::kProbe) << "not after open_for: now";
  b.record(true, true, t + seconds(11));
  EXPECT_EQ(b.state(t + seconds(11)), State::kClosed);
  b.release_probe();  // closed: nothing to give back
  EXPECT_EQ(b.admit(t + seconds(11)), Admission::kAllowed);
}

}  // namespace
}  // namespace vigil::l7

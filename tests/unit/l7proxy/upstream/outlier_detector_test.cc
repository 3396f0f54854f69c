// Passive ejection with an injected clock: a run of 5xx or of connect failures ejects, a
// success breaks the run, ejections grow and are capped, and a backend that stays well long
// enough starts over.
#include "l7proxy/upstream/outlier_detector.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::l7 {
namespace {

using std::chrono::seconds;
using Clock = OutlierDetector::Clock;

TEST(OutlierDetectorTest, ARunOfFailuresEjectsAndASuccessBreaksIt) {
  OutlierDetector d({.consecutive_5xx = 3, .consecutive_connect_failures = 2});
  Clock::time_point t{};
  EXPECT_FALSE(d.record(Outcome::kServerError, t));
  EXPECT_FALSE(d.record(Outcome::kServerError, t));
  EXPECT_FALSE(d.record(Outcome::kSuccess, t));
  EXPECT_FALSE(d.record(Outcome::kServerError, t));
  EXPECT_FALSE(d.record(Outcome::kServerError, t));
  EXPECT_FALSE(d.ejected(t));
  EXPECT_TRUE(d.record(Outcome::kServerError, t));
  EXPECT_TRUE(d.ejected(t + seconds(29)));
  EXPECT_FALSE(d.ejected(t + seconds(30)));
  // Connect failures have their own run.
  EXPECT_FALSE(d.record(Outcome::kConnectFailure, t + seconds(31)));
  EXPECT_TRUE(d.record(Outcome::kConnectFailure, t + seconds(31)));
  EXPECT_TRUE(d.ejected(t + seconds(31 + 59))) << "the second ejection is twice as long";
  EXPECT_EQ(d.ejections(), 2u);
}

TEST(OutlierDetectorTest, EjectionsAreCappedAndForgiven) {
  OutlierDetector d(
      {.consecutive_5xx = 1, .base_ejection = seconds(30), .max_ejection = seconds(100)});
  Clock::time_point t{};
  std::vector<Clock::duration> lengths;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(d.record(Outcome::kServerError, t));  // at once when the last one ends
    lengths.push_back(*d.ejected_until() - t);
    t = *d.ejected_until();
  }
  EXPECT_EQ(lengths, (std::vector<Clock::duration>{seconds(30), seconds(60), seconds(90),
                                                   seconds(100), seconds(100)}))
      << "growing, capped";
  t = *d.ejected_until() + seconds(100);  // well behaved for the longest ejection
  ASSERT_TRUE(d.record(Outcome::kServerError, t));
  EXPECT_EQ(*d.ejected_until() - t, seconds(30)) << "starts over";
  EXPECT_FALSE(d.record(Outcome::kServerError, t + seconds(1))) << "ejected: not counted";
}

}  // namespace
}  // namespace vigil::l7

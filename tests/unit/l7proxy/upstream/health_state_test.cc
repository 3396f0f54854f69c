// Rise and fall over scripted check results: a new backend is up at its first pass; one
// failure or one lucky pass changes nothing; `fall` in a row takes it down, `rise` brings it
// back.
#include "l7proxy/upstream/health_state.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::l7 {
namespace {

// The state after each result in `script` ('+' passed, '-' failed): 'U' healthy, 'd' not.
std::string run(HealthState& h, const std::string& script) {
  std::string out;
  for (const char c : script) {
    h.record(c == '+');
    out += h.healthy() ? 'U' : 'd';
  }
  return out;
}

TEST(HealthStateTest, RiseAndFall) {
  HealthState h({.rise = 2, .fall = 3});
  EXPECT_FALSE(h.healthy()) << "not before its first check";
  EXPECT_EQ(run(h, "+"), "U");
  EXPECT_EQ(run(h, "-+--+---"), "UUUUUUUd");
  EXPECT_EQ(run(h, "+-+-++"),
            "ddddd"
            "U");
}

TEST(HealthStateTest, ABackendThatNeverAnsweredRisesLikeAnyOther) {
  HealthState h({.rise = 2, .fall = 3});
  EXPECT_EQ(run(h, "--+-++"), "dddddU");
}

}  // namespace
}  // namespace vigil::l7

// Token buckets with an injected clock: a burst, then the rate; Retry-After says when; keys
// are apart; the table stays bounded, refilled buckets forgotten first, then new keys sharing
// one overflow bucket.
#include "l7proxy/limits/rate_limiter.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiterTest, ABurstThenTheRateAndWhenToComeBack) {
  RateLimiter r({.rate = 2, .burst = 3});
  RateLimiter::Clock::time_point t{};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(r.take("10.0.0.1", t).allowed) << i;
  }
  const auto refused = r.take("10.0.0.1", t);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1u);
  EXPECT_TRUE(r.take("10.0.0.2", t).allowed) << "another key has its own bucket";
  EXPECT_TRUE(r.take("10.0.0.1", t + milliseconds(500)).allowed) << "2 a second";
  EXPECT_FALSE(r.take("10.0.0.1", t + milliseconds(600)).allowed);
  RateLimiter slow({.rate = 0.1, .burst = 1});
  EXPECT_TRUE(slow.take("k", t).allowed);
  EXPECT_EQ(slow.take("k", t).retry_after_seconds, 10u);
  RateLimiter zero({.rate = 0, .burst = 0});  // taken as one a day, a burst of 1
  EXPECT_TRUE(zero.take("k", t).allowed);
  EXPECT_EQ(zero.take("k", t).retry_after_seconds, 86400u);
}

TEST(RateLimiterTest, TheTableStaysBoundedAndAFloodOfKeysIsStillLimited) {
  RateLimiter r({.rate = 1, .burst = 2, .max_keys = 4});
  RateLimiter::Clock::time_point t{};
  for (int k = 0; k < 4; ++k) {
    EXPECT_TRUE(r.take("key" + std::to_string(k), t).allowed);
  }
  // Full of buckets in use: new keys share the overflow bucket (2 then refused).
  EXPECT_TRUE(r.take("new1", t).allowed);
  EXPECT_TRUE(r.take("new2", t).allowed);
  EXPECT_FALSE(r.take("new3", t).allowed);
  EXPECT_EQ(r.keys(), 4u);
  // Later, the old buckets have refilled: forgotten, and a new key gets its own.
  EXPECT_TRUE(r.take("new4", t + seconds(5)).allowed);
  EXPECT_EQ(r.keys(), 1u);
}

}  // namespace
}  // namespace vigil::l7

// Local rate limits: a token bucket per key (a client address, a field's value), `rate`
// requests a second with bursts of `burst`. A refused request is told when to try again
// (Retry-After, whole seconds, at least 1). Memory is bounded: at most `max_keys` buckets;
// buckets that have refilled are forgotten first (a full bucket is a new one), and past the
// bound every new key shares one overflow bucket, so a flood of addresses neither grows the
// table nor escapes the limit (and the sweep for refilled buckets runs at most once a second).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil::l7 {

struct RateSettings {
  double rate = 10;  // tokens a second
  double burst = 20;
  size_t max_keys = 65536;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // A rate below one a day or a burst below 1 is taken as that.
  explicit RateLimiter(RateSettings s);

  struct Verdict {
    bool allowed = true;
    uint32_t retry_after_seconds = 0;  // when refused
  };
  Verdict take(std::string_view key, Clock::time_point now);
  size_t keys() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at{};
  };
  void refill(Bucket& b, Clock::time_point now) const;
  Verdict take_from(Bucket& b, Clock::time_point now);
  void forget_full(Clock::time_point now);

  // Looked up by the key's view (no string made per request), hashed with a seed drawn per
  // process: keys come from clients, who must not be able to make them collide.
  struct KeyHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's name
    size_t operator()(std::string_view k) const;
  };

  RateSettings s_;
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets_;
  Clock::time_point last_sweep_{};  // a full table is swept at most once a second
  Bucket overflow_{.tokens = -1};   // -1: not yet used
};

}  // namespace vigil::l7

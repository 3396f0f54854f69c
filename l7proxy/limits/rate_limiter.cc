#include "l7proxy/limits/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace vigil::l7 {

void RateLimiter::refill(Bucket& b, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  if (elapsed > 0) {
    b.tokens = std::min(s_.burst, b.tokens + elapsed * s_.rate);
    b.at = now;
  }
}

RateLimiter::Verdict RateLimiter::take_from(Bucket& b, Clock::time_point now) {
  refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  const double wait = (1 - b.tokens) / s_.rate;
  return {.allowed = false,
          .retry_after_seconds = static_cast<uint32_t>(std::max(1.0, std::ceil(wait)))};
}

void RateLimiter::forget_full(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& entry) {
    Bucket b = entry.second;
    refill(b, now);
    return b.tokens >= s_.burst;
  });
}

RateLimiter::Verdict RateLimiter::take(std::string_view key, Clock::time_point now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= s_.max_keys && now - last_sweep_ >= std::chrono::seconds(1)) {
      last_sweep_ = now;
      forget_full(now);
    }
    if (buckets_.size() >= s_.max_keys) {
      if (overflow_.tokens < 0) {
        overflow_ = {.tokens = s_.burst, .at = now};
      }
      return take_from(overflow_, now);
    }
    it = buckets_.emplace(std::string(key), Bucket{.tokens = s_.burst, .at = now}).first;
  }
  return take_from(it->second, now);
}

}  // namespace vigil::l7

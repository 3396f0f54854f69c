#include "l7proxy/limits/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace vigil::l7 {
namespace {

uint64_t process_seed() {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }();
  return seed;
}

}  // namespace

size_t RateLimiter::KeyHash::operator()(std::string_view k) const {
  // FNV-1a from a secret start, then splitmix64's finaliser.
  uint64_t h = 0xcbf29ce484222325ull ^ process_seed();
  for (const char c : k) {
    h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return static_cast<size_t>(h ^ (h >> 31));
}

RateLimiter::RateLimiter(RateSettings s) : s_(s) {
  s_.rate = std::max(s_.rate, 1.0 / 86400);
  s_.burst = std::max(s_.burst, 1.0);
}

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
  const double wait = std::min((1 - b.tokens) / s_.rate, 86400.0);
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

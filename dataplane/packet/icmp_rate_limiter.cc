#include "dataplane/packet/icmp_rate_limiter.h"

#include <algorithm>
#include <cstring>

namespace vigil::dp {
namespace {

// FNV-1a over the address: spreads sources over the slots; no adversary gains by colliding
// (a collision only restarts a bucket, and the total still holds).
size_t slot_hash(const uint8_t* address, size_t length) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < length; ++i) {
    h = (h ^ address[i]) * 16777619u;
  }
  return h;
}

}  // namespace

IcmpRateLimiter::Rate IcmpRateLimiter::rate_of(const IcmpBucketRate& r, uint64_t tsc_hz) {
  if (r.per_second == 0) {
    return {};
  }
  const uint64_t interval = std::max<uint64_t>(1, tsc_hz / r.per_second);
  return {.interval = interval, .capacity = interval * std::max<uint32_t>(1, r.burst)};
}

IcmpRateLimiter::IcmpRateLimiter(const IcmpLimits& limits, uint64_t tsc_hz) {
  for (size_t k = 0; k < kIcmpKinds; ++k) {
    source_rate_[k] = rate_of(limits.per_source[k], tsc_hz);
    total_rate_[k] = rate_of(limits.total[k], tsc_hz);
    total_[k].credit = total_rate_[k].capacity;
  }
}

bool IcmpRateLimiter::has_token(Bucket& b, const Rate& r, uint64_t now) {
  if (r.interval == 0) {
    return true;
  }
  vigil_credit_refill(&b, now, r.capacity);
  return vigil_credit_has(&b, r.interval) != 0;
}

bool IcmpRateLimiter::allow(IcmpKind kind, const uint8_t* address, uint8_t family,
                            uint64_t now_tsc) {
  const size_t k = static_cast<size_t>(kind);
  const size_t length = family == 4 ? 4 : 16;
  if (total_[k].last == 0) {
    total_[k].last = now_tsc;  // full from the start, not from the TSC's zero
  }
  if (!has_token(total_[k], total_rate_[k], now_tsc)) {
    return false;
  }
  Slot& s = slots_[k * kSources + (slot_hash(address, length) & (kSources - 1))];
  if (s.family != family || std::memcmp(s.address, address, length) != 0) {
    s.family = family;
    std::memset(s.address, 0, sizeof(s.address));
    std::memcpy(s.address, address, length);
    s.bucket = {.credit = source_rate_[k].capacity, .last = now_tsc};
  }
  if (!has_token(s.bucket, source_rate_[k], now_tsc)) {
    return false;
  }
  if (total_rate_[k].interval != 0) {
    take(total_[k], total_rate_[k]);
  }
  if (source_rate_[k].interval != 0) {
    take(s.bucket, source_rate_[k]);
  }
  return true;
}

}  // namespace vigil::dp

// ICMP error budgets on a made-up clock: per source and kind, in all per kind, refilled to the
// tick (no remainder lost), a new source starting full, kinds that never starve each other.
#include "dataplane/packet/icmp_rate_limiter.h"

#include <gtest/gtest.h>

#include <array>

namespace vigil::dp {
namespace {

constexpr uint64_t kHz = 1'000'000'000;  // one tick a nanosecond

std::array<uint8_t, 16> source(uint32_t n) {
  std::array<uint8_t, 16> a{};
  a[0] = 10;
  a[1] = static_cast<uint8_t>(n >> 16);
  a[2] = static_cast<uint8_t>(n >> 8);
  a[3] = static_cast<uint8_t>(n);
  return a;
}

int allowed(IcmpRateLimiter& l, IcmpKind kind, uint32_t src, int tries, uint64_t now) {
  int n = 0;
  for (int i = 0; i < tries; ++i) {
    n += l.allow(kind, source(src).data(), 4, now) ? 1 : 0;
  }
  return n;
}

TEST(IcmpRateLimiter, OneSourceGetsLinuxsBurstThenOneASecond) {
  IcmpRateLimiter l(IcmpLimits{}, kHz);
  const uint64_t t0 = 5 * kHz;
  EXPECT_EQ(allowed(l, IcmpKind::kError, 1, 100, t0), 6);
  EXPECT_EQ(allowed(l, IcmpKind::kError, 1, 10, t0 + kHz / 2), 0);
  EXPECT_EQ(allowed(l, IcmpKind::kError, 1, 10, t0 + kHz), 1);
  EXPECT_EQ(allowed(l, IcmpKind::kError, 1, 10, t0 + 3 * kHz), 2);
}

TEST(IcmpRateLimiter, AFloodOfOneKindFromOneSourceLeavesTheOthersTheirShare) {
  IcmpRateLimiter l(IcmpLimits{}, kHz);
  const uint64_t t0 = 5 * kHz;
  EXPECT_EQ(allowed(l, IcmpKind::kError, 1, 10'000, t0), 6);  // a TTL=1 flood
  EXPECT_EQ(allowed(l, IcmpKind::kError, 2, 10, t0), 6);      // another source: its own bucket
  EXPECT_EQ(allowed(l, IcmpKind::kPathMtu, 1, 10, t0), 10);   // path MTU: never starved
}

TEST(IcmpRateLimiter, TheTotalBoundsManySourcesAndRefillsWithoutLosingFractions) {
  IcmpLimits limits;
  limits.per_source[0] = {};  // unlimited per source: the total alone
  IcmpRateLimiter l(limits, kHz);
  uint64_t now = 5 * kHz;
  int sent = 0;
  for (uint32_t s = 0; s < 200; ++s) {
    sent += allowed(l, IcmpKind::kError, s, 1, now);
  }
  EXPECT_EQ(sent, 50);  // the burst
  // One message a millisecond for ten seconds, asked for every 700 us: 1,000 a second exactly,
  // where a refill that dropped the remainder gave about 920.
  sent = 0;
  for (int i = 0; i < 14'286; ++i) {
    now += 700'000;
    sent += allowed(l, IcmpKind::kError, static_cast<uint32_t>(i), 2, now);
  }
  EXPECT_NEAR(sent, 10'000, 2);
}

TEST(IcmpRateLimiter, ASourceOfTheOtherFamilyIsAnotherSource) {
  IcmpRateLimiter l(IcmpLimits{}, kHz);
  std::array<uint8_t, 16> v6{};
  v6[0] = 10;  // the same first bytes as 10.0.0.1 below
  v6[3] = 1;
  const auto v4 = source(1);
  int a = 0, b = 0;
  for (int i = 0; i < 10; ++i) {
    a += l.allow(IcmpKind::kError, v4.data(), 4, kHz) ? 1 : 0;
    b += l.allow(IcmpKind::kError, v6.data(), 6, kHz) ? 1 : 0;
  }
  EXPECT_EQ(a, 6);
  EXPECT_EQ(b, 6);
}

}  // namespace
}  // namespace vigil::dp

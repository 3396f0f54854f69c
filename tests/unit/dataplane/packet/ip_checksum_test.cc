#include "dataplane/packet/ip_checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace vigil::dp {
namespace {

// The full RFC 1071 sum over a 20-byte header, as stored (memory order).
uint16_t full_checksum(std::array<uint8_t, 20> h) {
  h[10] = h[11] = 0;
  uint32_t sum = 0;
  for (size_t i = 0; i < h.size(); i += 2) {
    uint16_t w;
    std::memcpy(&w, &h[i], 2);
    sum += w;
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

TEST(IpChecksum, TtlDecrementMatchesAFullRecomputeForRandomHeaders) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::array<uint8_t, 20> h{};
    for (auto& b : h) {
      b = static_cast<uint8_t>(rng());
    }
    h[0] = 0x45;
    h[8] = static_cast<uint8_t>(2 + rng() % 254);  // a TTL that may be decremented
    const uint16_t before = full_checksum(h);
    std::memcpy(&h[10], &before, 2);
    ipv4_decrement_ttl(h.data());
    uint16_t after;
    std::memcpy(&after, &h[10], 2);
    // 0x0000 and 0xffff are the same one's complement value; a receiver accepts either.
    const uint16_t expected = full_checksum(h);
    EXPECT_TRUE(after == expected || (after ^ expected) == 0xffff) << i;
  }
}

TEST(IpChecksum, ReplaceIsTheIdentityForAnUnchangedWord) {
  EXPECT_EQ(checksum_replace(0x1234, 0xabcd, 0xabcd), 0x1234);
}

}  // namespace
}  // namespace vigil::dp

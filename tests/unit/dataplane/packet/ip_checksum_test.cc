#include "dataplane/packet/ip_checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

namespace vigil::dp {
namespace {

// The full RFC 1071 sum over a 20-byte header, as stored (memory order).
template <typename Bytes>  // std::array or std::vector: a copy, its checksum field zeroed
uint16_t full_checksum(Bytes h) {
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

TEST(IpChecksum, HeaderCheckAcceptsSummedHeadersOfEveryLengthAndRefusesAnyFlippedBit) {
  std::mt19937 rng(11);
  for (size_t header = 20; header <= 60; header += 4) {
    std::vector<uint8_t> h(header);
    for (auto& b : h) {
      b = static_cast<uint8_t>(rng());
    }
    h[0] = static_cast<uint8_t>(0x40 | header / 4);
    h[10] = h[11] = 0;
    const uint16_t sum = full_checksum(h);
    std::memcpy(&h[10], &sum, 2);
    EXPECT_TRUE(ipv4_header_checksum_ok(h.data(), header)) << header;
    const size_t bit = rng() % (header * 8);
    h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(ipv4_header_checksum_ok(h.data(), header)) << header << " bit " << bit;
  }
}

TEST(IpChecksum, ReplaceIsTheIdentityForAnUnchangedWord) {
  EXPECT_EQ(checksum_replace(0x1234, 0xabcd, 0xabcd), 0x1234);
}

}  // namespace
}  // namespace vigil::dp

// The map-free decisions the XDP program shares with the host: token buckets on a fake clock,
// ACL rule-set matching, checksums and the flow hash.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <set>

// C headers, written for C and BPF: their casts are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
extern "C" {
#include "vigil/acl.h"
#include "vigil/checksum.h"
#include "vigil/encap.h"
#include "vigil/hash.h"
#include "vigil/policer.h"
}
#pragma GCC diagnostic pop

namespace vigil {
namespace {

vigil_policer packets_per_second(uint64_t rate, uint64_t burst) {
  vigil_policer p{};
  p.packet_rate = rate;
  p.packet_burst = burst * VIGIL_NANO;
  p.packet_fill_ns = (p.packet_burst + rate - 1) / rate;
  return p;
}

TEST(PolicerTest, BurstThenRate) {
  const auto cfg = packets_per_second(10, 5);
  vigil_bucket b{};
  uint64_t now = 1'000'000'000'000;
  int passed = 0;
  for (int i = 0; i < 8; ++i) {
    passed += vigil_police(&cfg, &b, now, 100);
  }
  EXPECT_EQ(passed, 5) << "a full bucket holds the burst";
  now += 100'000'000;  // 0.1 s at 10/s: one token
  EXPECT_EQ(vigil_police(&cfg, &b, now, 100), 1);
  EXPECT_EQ(vigil_police(&cfg, &b, now, 100), 0);
  now += 50'000'000;  // half a token is not enough ...
  EXPECT_EQ(vigil_police(&cfg, &b, now, 100), 0);
  now += 50'000'000;  // ... and is not lost by the refused packet
  EXPECT_EQ(vigil_police(&cfg, &b, now, 100), 1);
  now += 3'600'000'000'000;  // an hour idle: full, not overflowed
  passed = 0;
  for (int i = 0; i < 8; ++i) {
    passed += vigil_police(&cfg, &b, now, 100);
  }
  EXPECT_EQ(passed, 5);
}

TEST(PolicerTest, BytesAndPacketsBothMustHold) {
  vigil_policer cfg = packets_per_second(1000, 1000);
  cfg.byte_rate = 1500;
  cfg.byte_burst = 3000 * VIGIL_NANO;
  cfg.byte_fill_ns = (cfg.byte_burst + cfg.byte_rate - 1) / cfg.byte_rate;
  vigil_bucket b{};
  const uint64_t now = 5'000'000'000;
  EXPECT_EQ(vigil_police(&cfg, &b, now, 1500), 1);
  EXPECT_EQ(vigil_police(&cfg, &b, now, 1500), 1);
  EXPECT_EQ(vigil_police(&cfg, &b, now, 1500), 0) << "bytes exhausted, packets not";
  EXPECT_EQ(vigil_police(&cfg, &b, now + 1'000'000'000, 1500), 1);
}

TEST(AclMatchTest, LowestCommonRuleWins) {
  vigil_acl_mask src{};
  vigil_acl_mask dst{};
  EXPECT_EQ(vigil_acl_first_match(&src, &dst), -1);
  src.words[0] = 0b1010;
  dst.words[0] = 0b1100;
  EXPECT_EQ(vigil_acl_first_match(&src, &dst), 3);
  src.words[2] = 1ull << 63;
  dst.words[2] = 1ull << 63;
  dst.words[0] = 0;
  EXPECT_EQ(vigil_acl_first_match(&src, &dst), 2 * 64 + 63);
  for (uint32_t bit = 0; bit < 64; ++bit) {
    EXPECT_EQ(vigil_lowest_bit(1ull << bit | (bit < 63 ? 1ull << 63 : 0)), bit);
  }
}

TEST(ChecksumTest, KnownIpv4Header) {
  // RFC 1071-style example: a header whose checksum is 0xb861 (from a real capture).
  uint8_t header[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const uint16_t sum = vigil_csum_fold(vigil_csum_add(header, 10, 0));
  std::memcpy(&header[10], &sum, 2);
  EXPECT_EQ(header[10], 0xb8);
  EXPECT_EQ(header[11], 0x61);
  EXPECT_EQ(vigil_csum_fold(vigil_csum_add(header, 10, 0)), 0) << "a right header sums to 0";
}

// The writer sums its checksum from register values; it must equal the sum over the bytes it
// wrote, for any type of service, protocol and length (odd bytes included).
TEST(ChecksumTest, WrittenIpv4HeaderSumsToZero) {
  for (const uint8_t tos : {0x00, 0x01, 0xb8, 0xff}) {
    for (const uint8_t proto : {4, 17, 41, 255}) {
      for (const uint16_t length : {20, 92, 0x1234, 0xffff}) {
        alignas(4) uint8_t header[20];
        std::memset(header, 0xaa, sizeof(header));
        vigil_write_ipv4(reinterpret_cast<iphdr*>(header), inet_addr("172.16.255.254"),
                         inet_addr("10.200.0.1"), proto, tos, length);
        EXPECT_EQ(vigil_csum_fold(vigil_csum_add(header, 10, 0)), 0)
            << "tos " << int(tos) << " proto " << int(proto) << " length " << length;
        EXPECT_EQ(header[0], 0x45);
        EXPECT_EQ(header[1], tos);
        EXPECT_EQ(header[2] << 8 | header[3], length);
        EXPECT_EQ(header[9], proto);
      }
    }
  }
}

TEST(FlowHashTest, DeterministicSeededAndSpread) {
  vigil_packet p{};
  p.l3_proto = 0x0800;
  p.l4_proto = 6;
  p.src.v4 = inet_addr("10.5.0.2");
  p.dst.v4 = inet_addr("10.100.0.1");
  p.dport = htons(80);
  std::set<uint32_t> buckets;
  for (uint16_t port = 1; port <= 1000; ++port) {
    p.sport = htons(port);
    const uint32_t h = vigil_flow_hash(&p, 7);
    EXPECT_EQ(h, vigil_flow_hash(&p, 7));
    buckets.insert(h % 64);
  }
  EXPECT_EQ(buckets.size(), 64u) << "1,000 flows reach every one of 64 buckets";
  EXPECT_NE(vigil_flow_hash(&p, 7), vigil_flow_hash(&p, 8));
}

}  // namespace
}  // namespace vigil

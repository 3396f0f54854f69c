// The map-free decisions the XDP program shares with the host: token buckets on a fake clock,
// ACL rule-set matching, checksums and the flow hash.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

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

// A parsed IPv4 TCP packet of one flow; addresses in network order (inet_addr, htonl).
vigil_packet ipv4_tcp(in_addr_t src, in_addr_t dst, uint16_t sport, uint16_t dport) {
  vigil_packet p{};
  p.l3_proto = 0x0800;
  p.l4_proto = 6;
  p.src.v4 = src;
  p.dst.v4 = dst;
  p.sport = htons(sport);
  p.dport = htons(dport);
  return p;
}

TEST(FlowHashTest, DeterministicSeededAndSpread) {
  vigil_packet p = ipv4_tcp(inet_addr("10.5.0.2"), inet_addr("10.100.0.1"), 0, 80);
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

// 20,000 flows into 8,192 sets (the default table on two CPUs): as a random function would
// spread them (2.4 per set on average; a set with more than 16 or more than 15% of sets left
// empty would be far out of line), whichever fields of the 5-tuple vary.
TEST(ConnectionHashTest, SpreadsFlowsOverSetsWhicheverFieldsVary) {
  constexpr uint32_t kSets = 8192;
  constexpr int kFlows = 20000;
  auto spread = [&](const char* what, auto make_flow) {
    std::vector<int> load(kSets);
    for (int i = 0; i < kFlows; ++i) {
      const vigil_packet p = make_flow(i);
      ++load[vigil_conn_hash(&p) & (kSets - 1)];
    }
    EXPECT_LE(*std::max_element(load.begin(), load.end()), 16) << what;
    EXPECT_LE(std::count(load.begin(), load.end(), 0), static_cast<long>(kSets * 0.15)) << what;
  };
  auto ipv4 = [](uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    return ipv4_tcp(htonl(src), htonl(dst), sport, dport);
  };
  const uint32_t client = 0x0a050002, vip = 0x0a640001;  // 10.5.0.2, 10.100.0.1
  spread("source ports", [&](int i) { return ipv4(client, vip, 1024 + i, 80); });
  spread("source addresses", [&](int i) { return ipv4(0x0a060000 + i, vip, 40000, 80); });
  spread("source /16s", [&](int i) { return ipv4(0x0a000001 + (i << 16), vip, 40000, 80); });
  spread("destination ports", [&](int i) { return ipv4(client, vip, 40000, 1 + i); });
  spread("IPv6 sources", [&](int i) {
    vigil_packet p{};
    p.l3_proto = 0x86dd;
    p.l4_proto = 17;
    p.src.v6[0] = 0x20;
    p.src.v6[1] = 0x01;
    p.src.v6[8] = static_cast<uint8_t>(i >> 8);
    p.src.v6[15] = static_cast<uint8_t>(i);
    p.dst.v6[15] = 1;
    p.sport = htons(443);
    p.dport = htons(443);
    return p;
  });
}

TEST(ConnectionHashTest, EveryFieldOfTheFlowCounts) {
  const vigil_packet a = ipv4_tcp(inet_addr("10.5.0.2"), inet_addr("10.100.0.1"), 40000, 80);
  const uint32_t h = vigil_conn_hash(&a);
  EXPECT_EQ(h, vigil_conn_hash(&a));
  using Change = void (*)(vigil_packet&);
  const std::pair<const char*, Change> changes[] = {
      {"source", [](vigil_packet& p) { p.src.v4 = inet_addr("10.5.0.3"); }},
      {"destination", [](vigil_packet& p) { p.dst.v4 = inet_addr("10.100.0.2"); }},
      {"source port", [](vigil_packet& p) { p.sport = htons(40001); }},
      {"destination port", [](vigil_packet& p) { p.dport = htons(81); }},
      {"protocol", [](vigil_packet& p) { p.l4_proto = 17; }},
  };
  for (const auto& [field, change] : changes) {
    vigil_packet b = a;
    change(b);
    EXPECT_NE(vigil_conn_hash(&b), h) << field;
  }
}

}  // namespace
}  // namespace vigil

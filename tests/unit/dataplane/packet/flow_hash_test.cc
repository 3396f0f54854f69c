#include "dataplane/packet/flow_hash.h"

#include <gtest/gtest.h>

#include <cstring>

#include "ebpf/host/parse_host.h"
#include "tests/packet/packet_builder.h"

namespace vigil::dp {
namespace {

vigil_packet parse(const std::vector<uint8_t>& frame) {
  vigil_packet p{};
  EXPECT_EQ(vigil_parse_frame(frame.data(), frame.size(), &p), VIGIL_PARSE_OK);
  return p;
}

using test::PacketBuilder;

TEST(SymmetricFlowHash, BothDirectionsOfAFlowHashAlike) {
  const auto there =
      parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40000, 443).build());
  const auto back =
      parse(PacketBuilder().eth().ipv4("10.2.0.9", "10.1.0.5").tcp(443, 40000).build());
  EXPECT_EQ(vigil_symmetric_flow_hash(&there, 1), vigil_symmetric_flow_hash(&back, 1));
  const auto there6 =
      parse(PacketBuilder().eth().ipv6("fd00:1::5", "fd00:2::9").udp(5000, 53).build());
  const auto back6 =
      parse(PacketBuilder().eth().ipv6("fd00:2::9", "fd00:1::5").udp(53, 5000).build());
  EXPECT_EQ(vigil_symmetric_flow_hash(&there6, 1), vigil_symmetric_flow_hash(&back6, 1));
}

TEST(SymmetricFlowHash, OtherFlowsAndSeedsHashApart) {
  const auto a = parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40000, 443).build());
  const auto b = parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40001, 443).build());
  // Ports swapped but not addresses: another flow, not the reverse direction.
  const auto c = parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(443, 40000).build());
  const auto d = parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").udp(40000, 443).build());
  const uint32_t ha = vigil_symmetric_flow_hash(&a, 1);
  EXPECT_NE(ha, vigil_symmetric_flow_hash(&b, 1));
  EXPECT_NE(ha, vigil_symmetric_flow_hash(&d, 1));
  EXPECT_NE(ha, vigil_symmetric_flow_hash(&c, 1));
  EXPECT_NE(ha, vigil_symmetric_flow_hash(&a, 2));
}

TEST(EcmpFlowHash, BothDirectionsOfAFlowHashAlike) {
  for (const auto& [there, back] :
       {std::pair{PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40000, 443).build(),
                  PacketBuilder().eth().ipv4("10.2.0.9", "10.1.0.5").tcp(443, 40000).build()},
        std::pair{PacketBuilder().eth().ipv6("fd00:1::5", "fd00:2::9").udp(5000, 53).build(),
                  PacketBuilder().eth().ipv6("fd00:2::9", "fd00:1::5").udp(53, 5000).build()},
        // Same address both ways: the ports decide the order.
        std::pair{PacketBuilder().eth().ipv4("10.1.0.5", "10.1.0.5").udp(7, 9).build(),
                  PacketBuilder().eth().ipv4("10.1.0.5", "10.1.0.5").udp(9, 7).build()}}) {
    EXPECT_EQ(ecmp_flow_hash(parse(there), 1), ecmp_flow_hash(parse(back), 1));
  }
}

TEST(EcmpFlowHash, OtherFlowsAndSeedsHashApart) {
  const auto a = parse(PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40000, 443).build());
  const uint32_t ha = ecmp_flow_hash(a, 1);
  for (const auto& other :
       {PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(40001, 443).build(),
        PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").tcp(443, 40000).build(),
        PacketBuilder().eth().ipv4("10.1.0.5", "10.2.0.9").udp(40000, 443).build(),
        PacketBuilder().eth().ipv4("10.1.0.6", "10.2.0.9").tcp(40000, 443).build()}) {
    EXPECT_NE(ha, ecmp_flow_hash(parse(other), 1));
  }
  EXPECT_NE(ha, ecmp_flow_hash(a, 2));
  const auto v6 = parse(PacketBuilder().eth().ipv6("fd00:1::5", "fd00:2::9").udp(5000, 53).build());
  const auto v6b =
      parse(PacketBuilder().eth().ipv6("fd00:1::5", "fd00:2::a").udp(5000, 53).build());
  EXPECT_NE(ecmp_flow_hash(v6, 1), ecmp_flow_hash(v6b, 1));
}

// What ECMP needs of it: flows that differ only in their source port (one client's many
// connections) spread evenly over the buckets a group picks from by multiply-shift.
TEST(EcmpFlowHash, SourcePortsSpreadEvenlyOverBuckets) {
  constexpr int kBuckets = 8, kFlows = 16000;
  int count[kBuckets] = {};
  for (int f = 0; f < kFlows; ++f) {
    const auto p = parse(PacketBuilder()
                             .eth()
                             .ipv4("10.1.0.5", "192.0.2.80")
                             .tcp(static_cast<uint16_t>(32768 + f), 443)
                             .build());
    ++count[(static_cast<uint64_t>(ecmp_flow_hash(p, 7)) * kBuckets) >> 32];
  }
  for (int c : count) {
    EXPECT_NEAR(c, kFlows / kBuckets, kFlows / kBuckets / 10);  // within 10%
  }
}

}  // namespace
}  // namespace vigil::dp

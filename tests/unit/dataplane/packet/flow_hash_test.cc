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

}  // namespace
}  // namespace vigil::dp

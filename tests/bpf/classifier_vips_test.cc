// L4 VIPs (classifier_vips.h, classifier_encap.h): IPIP, IPv6 and GUE encapsulation byte for
// byte, the outer source, misses and the VIP filter.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

TEST_F(ClassifierTest, VipIpipEncapsulation) {
  const auto inner = PacketBuilder()
                         .eth()
                         .ipv4("10.5.0.2", "10.100.0.1")
                         .tos(0xb8)
                         .tcp(40000, 80)
                         .payload(100)
                         .build();
  const auto out = expect(inner, XDP_TX, "tx_vip_encapsulated");
  const auto expected = PacketBuilder()
                            .eth(kGatewayMac, kOwnMac)
                            .ipv4("172.16.0.9", "10.200.0.1")
                            .tos(0xb8)  // DSCP and ECN copied outward
                            .ipv4("10.5.0.2", "10.100.0.1")
                            .tos(0xb8)
                            .tcp(40000, 80)
                            .payload(100)
                            .build();
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);
}

TEST_F(ClassifierTest, VipIpipEncapsulationKeepsVlanTags) {
  const auto inner = PacketBuilder()
                         .eth()
                         .vlan(100, 0x88a8)
                         .vlan(20)
                         .ipv4("10.5.0.2", "10.100.0.1")
                         .tcp(1, 80)
                         .build();
  const auto out = expect(inner, XDP_TX, "tx_vip_encapsulated");
  const auto expected = PacketBuilder()
                            .eth(kGatewayMac, kOwnMac)
                            .vlan(100, 0x88a8)
                            .vlan(20)
                            .ipv4("172.16.0.9", "10.200.0.1")
                            .ipv4("10.5.0.2", "10.100.0.1")
                            .tcp(1, 80)
                            .build();
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);
}

TEST_F(ClassifierTest, VipIpv6InIpv6AndIpv4InIpv6) {
  auto out = expect(
      PacketBuilder().eth().ipv6("fd00:5::2", "fd00:100::1").tcp(40000, 443).payload(20).build(),
      XDP_TX, "tx_vip_encapsulated");
  auto expected = PacketBuilder()
                      .eth(kGatewayMac, kOwnMac)
                      .ipv6("fd00:ffff::9", "fd00:200::1")
                      .ipv6("fd00:5::2", "fd00:100::1")
                      .tcp(40000, 443)
                      .payload(20)
                      .build();
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);

  out = expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.3").tcp(40000, 80).build(), XDP_TX,
               "tx_vip_encapsulated");
  expected = PacketBuilder()
                 .eth(kGatewayMac, kOwnMac)
                 .ipv6("fd00:ffff::9", "fd00:200::3")
                 .ipv4("10.5.0.2", "10.100.0.3")
                 .tcp(40000, 80)
                 .build();
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);
}

// GUE's source port comes from the flow hash: read it back, check its range and that the
// flow keeps it, then compare the rest byte for byte.
TEST_F(ClassifierTest, VipGueEncapsulation) {
  const auto inner =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.2").udp(3333, 53).payload(30).build();
  const auto out = expect(inner, XDP_TX, "tx_vip_encapsulated");
  ASSERT_GE(out.size(), 14u + 20 + 8);
  const uint16_t sport = static_cast<uint16_t>(out[34] << 8 | out[35]);
  EXPECT_GE(sport, 49152);
  const auto expected = PacketBuilder()
                            .eth(kGatewayMac, kOwnMac)
                            .ipv4("172.16.0.9", "10.200.0.2")
                            .udp(sport, 6080, false)
                            .ipv4("10.5.0.2", "10.100.0.2")
                            .udp(3333, 53)
                            .payload(30)
                            .build();
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);
  EXPECT_EQ(expect(inner, XDP_TX, "tx_vip_encapsulated"), out) << "same flow, same port";

  const auto out6 = expect(
      PacketBuilder().eth().ipv6("fd00:5::2", "fd00:100::2").udp(3333, 53).payload(12).build(),
      XDP_TX, "tx_vip_encapsulated");
  ASSERT_GE(out6.size(), 14u + 40 + 8);
  const uint16_t sport6 = static_cast<uint16_t>(out6[54] << 8 | out6[55]);
  const auto expected6 = PacketBuilder()
                             .eth(kGatewayMac, kOwnMac)
                             .ipv6("fd00:ffff::9", "fd00:200::2")
                             .udp(sport6, 6080, false)
                             .ipv6("fd00:5::2", "fd00:100::2")
                             .udp(3333, 53)
                             .payload(12)
                             .build();
  EXPECT_EQ(out6, expected6) << "got:\n" << hex(out6) << "\nwant:\n" << hex(expected6);
}

TEST_F(ClassifierTest, OuterSourceFollowsTheFlowWithinItsPrefix) {
  auto config = base_config();
  config.encap_source4 = net("172.16.0.0/24");
  ASSERT_TRUE(classifier_->apply(config).ok());
  std::set<uint32_t> sources;
  for (uint16_t port = 1000; port < 1064; ++port) {
    const auto frame = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(port, 80).build();
    const auto out = expect(frame, XDP_TX, "tx_vip_encapsulated");
    ASSERT_GE(out.size(), 34u);
    EXPECT_EQ(out[26], 172);
    EXPECT_EQ(out[27], 16);
    EXPECT_EQ(out[28], 0);
    EXPECT_EQ(ones_sum(&out[14], 20), 0xffff) << "outer IPv4 header checksum";
    sources.insert(out[29]);
    EXPECT_EQ(expect(frame, XDP_TX, "tx_vip_encapsulated"), out);
  }
  EXPECT_GT(sources.size(), 40u) << "64 flows should spread over the /24";
}

TEST_F(ClassifierTest, VipMissAndNoBackend) {
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(40000, 81).build(), XDP_PASS,
         "pass_default_policy");  // right address, wrong port: not the VIP
  auto config = base_config();
  config.vips[0].backends[0].weight = 0;  // drained, and nothing established
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(40001, 80).build(), XDP_DROP,
         "drop_vip_no_backend");
}

// The VIP destination filter only says "maybe": an address that shares a VIP's bit is still
// no VIP, and a VIP is only looked for through its bit (cleared by hand here, the VIP's
// packets go the way of any other address's).
TEST_F(ClassifierTest, VipFilterIsConsultedAndOnlySaysMaybe) {
  uint8_t vip[16]{};
  inet_pton(AF_INET, "10.100.0.1", vip);
  const uint32_t bit = vigil_vip_filter_bit(vip);
  char twin[INET_ADDRSTRLEN] = "";
  for (uint32_t host = 1; host < (1u << 24) && twin[0] == 0; ++host) {
    uint8_t a[16]{};
    const uint32_t be = htonl(11u << 24 | host);  // 11.0.0.0/8: nothing configured there
    std::memcpy(a, &be, 4);
    if (vigil_vip_filter_bit(a) == bit) {
      inet_ntop(AF_INET, a, twin, sizeof(twin));
    }
  }
  ASSERT_NE(twin[0], 0) << "no address in 11.0.0.0/8 shares the VIP's bit";
  expect(PacketBuilder().eth().ipv4("10.5.0.2", twin).tcp(40000, 80).build(), XDP_PASS,
         "pass_default_policy");

  const auto to_vip = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(40000, 80).build();
  expect(to_vip, XDP_TX, "tx_vip_encapsulated");
  const uint32_t word = bit / 64;
  ASSERT_TRUE(
      classifier_->maps().update(MapId::kVipFilter, bytes_of(word), bytes_of(uint64_t{0})).ok());
  expect(to_vip, XDP_PASS, "pass_default_policy");
}

}  // namespace
}  // namespace vigil::ebpf

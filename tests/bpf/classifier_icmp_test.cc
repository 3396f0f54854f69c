// ICMP errors the classifier answers itself (classifier_icmp.h): fragmentation needed and
// packet too big for VIP packets that would not fit the encapsulation.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

TEST_F(ClassifierTest, IcmpFragmentationNeededForOversizeIpv4WithDf) {
  // 1,480 bytes of IP + 20 of IPIP = 1,500: fits. One more byte does not.
  const auto fits =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1", 0x4000).tcp(1, 80).payload(1440).build();
  expect(fits, XDP_TX, "tx_vip_encapsulated");

  const auto big =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1", 0x4000).tcp(1, 80).payload(1441).build();
  const auto out = expect(big, XDP_TX, "tx_icmp_too_big");
  Frame expected = PacketBuilder().eth(kClientMac, kOwnMac).ipv4("10.100.0.1", "10.5.0.2").build();
  expected[23] = 1;  // protocol ICMP: the builder's IP header has no L4 layer to name
  put16(expected, 16, 20 + 8 + 68);
  expected[24] = expected[25] = 0;
  put16(expected, 24, static_cast<uint16_t>(~ones_sum(&expected[14], 20)));
  const Frame icmp_header = {3, 4, 0, 0, 0, 0, 1480 >> 8, 1480 & 0xff};
  expected.insert(expected.end(), icmp_header.begin(), icmp_header.end());
  expected.insert(expected.end(), big.begin() + 14, big.begin() + 14 + 68);
  put16(expected, 36, static_cast<uint16_t>(~ones_sum(&expected[34], 8 + 68)));
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);

  const auto no_df =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(1, 80).payload(1441).build();
  expect(no_df, XDP_DROP, "drop_vip_too_big_without_df");
}

TEST_F(ClassifierTest, IcmpPacketTooBigForOversizeIpv6) {
  // 6in6 costs 40 bytes: at most 1,460 bytes of inner IPv6.
  const auto big =
      PacketBuilder().eth().ipv6("fd00:5::2", "fd00:100::1").tcp(1, 443).payload(1401).build();
  const auto out = expect(big, XDP_TX, "tx_icmp_too_big");
  Frame expected =
      PacketBuilder().eth(kClientMac, kOwnMac).ipv6("fd00:100::1", "fd00:5::2").build();
  expected[20] = 58;  // next header ICMPv6
  put16(expected, 18, 8 + 256);
  Frame icmp = {2, 0, 0, 0, 0, 0, 1460 >> 8, 1460 & 0xff};
  icmp.insert(icmp.end(), big.begin() + 14, big.begin() + 14 + 256);
  // Pseudo-header: addresses, upper-layer length, next header.
  uint32_t pseudo = ones_sum(&expected[22], 32) + (8 + 256) + 58;
  put16(icmp, 2, static_cast<uint16_t>(~ones_sum(icmp.data(), icmp.size(), pseudo)));
  expected.insert(expected.end(), icmp.begin(), icmp.end());
  EXPECT_EQ(out, expected) << "got:\n" << hex(out) << "\nwant:\n" << hex(expected);
}

}  // namespace
}  // namespace vigil::ebpf

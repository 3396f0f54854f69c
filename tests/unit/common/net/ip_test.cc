#include "common/net/ip.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

Prefix net(const char* s) {
  return *Prefix::parse_interface(s);
}
IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(ip("10.1.2.3").family, 4);
  EXPECT_EQ(ip("10.1.2.3").to_string(), "10.1.2.3");
  EXPECT_EQ(ip("FD00:0:0::1").to_string(), "fd00::1");
  EXPECT_FALSE(IpAddress::parse("10.1.2").ok());
  EXPECT_FALSE(IpAddress::parse("").ok());
  EXPECT_FALSE(IpAddress::parse("10.1.2.3 ").ok());
}

TEST(Prefix, NetworkRejectsHostBitsAndNamesTheNetwork) {
  auto p = Prefix::parse_network("10.1.1.1/16");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(), "\"10.1.1.1/16\" has host bits set; the network is 10.1.0.0/16");
  EXPECT_TRUE(Prefix::parse_network("0.0.0.0/0").ok());
  EXPECT_TRUE(Prefix::parse_network("2001:db8::/32").ok());
  EXPECT_FALSE(Prefix::parse_network("2001:db8::/129").ok());
  EXPECT_FALSE(Prefix::parse_network("10.0.0.0").ok());
  EXPECT_FALSE(Prefix::parse_network("10.0.0.0/x").ok());
}

TEST(Prefix, ContainsAndOverlaps) {
  EXPECT_TRUE(net("10.1.0.0/16").contains(ip("10.1.255.1")));
  EXPECT_FALSE(net("10.1.0.0/16").contains(ip("10.2.0.1")));
  EXPECT_FALSE(net("10.1.0.0/16").contains(ip("::a01:1")));
  EXPECT_TRUE(net("0.0.0.0/0").contains(ip("192.0.2.1")));
  EXPECT_TRUE(net("10.1.0.1/16").overlaps(net("10.1.200.1/24")));
  EXPECT_TRUE(net("10.1.200.1/24").overlaps(net("10.1.0.1/16")));
  EXPECT_FALSE(net("10.1.0.0/24").overlaps(net("10.1.1.0/24")));
  EXPECT_FALSE(net("10.1.0.0/24").overlaps(net("fd00::/8")));
  EXPECT_TRUE(net("fd00:1::1/64").overlaps(net("fd00:1::2/64")));
  EXPECT_EQ(net("fd00:1::1/64").network().to_string(), "fd00:1::/64");
}

}  // namespace
}  // namespace vigil::net

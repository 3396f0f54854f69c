// Cryptokey routing: the longest prefix wins, both families, a prefix has one owner, and a
// removed peer owns nothing.
#include "sdwan/wireguard/allowed_ips.h"

#include <gtest/gtest.h>

namespace vigil::wg {
namespace {

net::Prefix p(const char* text) {
  return *net::Prefix::parse_network(text);
}
net::IpAddress a(const char* text) {
  return *net::IpAddress::parse(text);
}

TEST(AllowedIps, TheLongestPrefixWinsInBothFamilies) {
  AllowedIps t;
  t.insert(p("10.0.0.0/8"), 1);
  t.insert(p("10.2.0.0/16"), 2);
  t.insert(p("10.2.1.7/32"), 3);
  t.insert(p("0.0.0.0/0"), 4);
  t.insert(p("fd00::/8"), 5);
  t.insert(p("fd00:2::/32"), 6);
  EXPECT_EQ(t.lookup(a("10.9.9.9")), 1u);
  EXPECT_EQ(t.lookup(a("10.2.200.1")), 2u);
  EXPECT_EQ(t.lookup(a("10.2.1.7")), 3u);
  EXPECT_EQ(t.lookup(a("10.2.1.8")), 2u);
  EXPECT_EQ(t.lookup(a("192.0.2.1")), 4u) << "the default route";
  EXPECT_EQ(t.lookup(a("fd00:2::1")), 6u);
  EXPECT_EQ(t.lookup(a("fd00:3::1")), 5u);
  EXPECT_FALSE(t.lookup(a("2001:db8::1")).has_value()) << "no IPv6 default";
  EXPECT_EQ(t.size(), 6u);
}

TEST(AllowedIps, APrefixHasOneOwnerAndARemovedPeerNone) {
  AllowedIps t;
  t.insert(p("10.1.0.0/16"), 1);
  t.insert(p("10.1.5.0/24"), 1);
  t.insert(p("fd00:1::/32"), 1);
  t.insert(p("10.2.0.0/16"), 2);
  t.insert(p("10.1.0.0/16"), 2);  // taken over
  EXPECT_EQ(t.lookup(a("10.1.9.9")), 2u);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.prefixes_of(1), (std::vector<net::Prefix>{p("10.1.5.0/24"), p("fd00:1::/32")}));
  EXPECT_EQ(t.prefixes_of(2), (std::vector<net::Prefix>{p("10.1.0.0/16"), p("10.2.0.0/16")}));
  t.remove_peer(2);
  EXPECT_FALSE(t.lookup(a("10.1.9.9")).has_value());
  EXPECT_EQ(t.lookup(a("10.1.5.1")), 1u);
  EXPECT_TRUE(t.prefixes_of(2).empty());
  EXPECT_EQ(t.size(), 2u);
}

}  // namespace
}  // namespace vigil::wg

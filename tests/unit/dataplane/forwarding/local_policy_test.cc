#include "dataplane/forwarding/local_policy.h"

#include <gtest/gtest.h>

namespace vigil::dp {
namespace {

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmp6 = 58, kGre = 47;

net::Prefix prefix(const char* text) {
  return *net::Prefix::parse_network(text);
}

struct Packet {
  net::IpAddress src, dst;
  uint8_t protocol = kTcp;
  uint16_t port = 0;
  bool ports_known = true;
  bool later_fragment = false;
};

Packet tcp(const char* src, const char* dst, uint16_t port) {
  return {*net::IpAddress::parse(src), *net::IpAddress::parse(dst), kTcp, port};
}

bool admits(const LocalPolicy& policy, const Packet& p) {
  return policy.admits(p.src.family, p.src.bytes.data(), p.dst.bytes.data(), p.protocol, p.port,
                       p.ports_known, p.later_fragment);
}

// The classifier's order for traffic to the box: the ACL's first match (a deny drops), ICMP,
// the service ports, then the default action.
TEST(LocalPolicyTest, TheClassifiersRulesForTrafficToTheBox) {
  LocalPolicy policy{.drop_by_default = true};
  policy.tcp_ports.set(22);
  policy.udp_ports.set(161);
  policy.acl = {{.source = prefix("10.2.9.0/24"), .deny = true},
                {.source = prefix("10.2.0.0/16"), .destination = prefix("10.1.1.1/32")},
                {.source = prefix("10.2.0.0/16"), .deny = true}};
  EXPECT_TRUE(admits(policy, tcp("10.3.1.10", "10.1.1.1", 22)));
  EXPECT_FALSE(admits(policy, tcp("10.3.1.10", "10.1.1.1", 8443))) << "default: drop";
  EXPECT_FALSE(admits(policy, tcp("10.2.9.5", "10.1.1.1", 22))) << "the ACL's deny first";
  EXPECT_TRUE(admits(policy, tcp("10.2.1.10", "10.1.1.1", 22))) << "allowed, then the port";
  EXPECT_FALSE(admits(policy, tcp("10.2.1.10", "10.1.1.1", 8443))) << "an allow is no pass";
  EXPECT_FALSE(admits(policy, tcp("10.2.1.10", "10.1.2.1", 22))) << "the third rule denies";
  Packet snmp = tcp("10.3.1.10", "10.1.1.1", 161);
  snmp.protocol = kUdp;
  EXPECT_TRUE(admits(policy, snmp));
  snmp.port = 162;
  EXPECT_FALSE(admits(policy, snmp));
  Packet ping = tcp("10.3.1.10", "10.1.1.1", 0);
  ping.protocol = kIcmp;
  EXPECT_TRUE(admits(policy, ping));
  Packet v6 = tcp("fd00:3:1::a", "fd00:1:1::1", 0);
  v6.protocol = kIcmp6;
  EXPECT_TRUE(admits(policy, v6));
  v6.protocol = kGre;
  EXPECT_FALSE(admits(policy, v6));
  Packet unknown = tcp("fd00:3:1::a", "fd00:1:1::1", 22);
  unknown.ports_known = false;  // past the extension headers walked: no port to match
  EXPECT_FALSE(admits(policy, unknown));
}

TEST(LocalPolicyTest, PassByDefaultAndLaterFragments) {
  LocalPolicy pass;
  EXPECT_TRUE(admits(pass, tcp("10.3.1.10", "10.1.1.1", 8443)));
  Packet unwalked = tcp("fd00:3:1::a", "fd00:1:1::1", 0);
  unwalked.ports_known = false;
  EXPECT_FALSE(admits(pass, unwalked)) << "malformed to the box, as in XDP, whatever the default";
  Packet fragment = tcp("10.3.1.10", "10.1.1.1", 0);
  fragment.later_fragment = true;
  fragment.ports_known = false;
  EXPECT_TRUE(admits(pass, fragment));
  LocalPolicy strict{.drop_by_default = true, .drop_later_fragments = true};
  EXPECT_FALSE(admits(strict, fragment));
  strict.drop_later_fragments = false;
  EXPECT_TRUE(admits(strict, fragment)) << "later fragments by filter.later_fragments alone";
}

}  // namespace
}  // namespace vigil::dp

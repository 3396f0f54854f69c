// The filter and l4 sections: a good document parses into types, and each mistake an operator
// is likely to make gets its own error with path, line and column.
#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::config {
namespace {

constexpr const char* kGood = R"(interfaces:
  wan1: {role: wan, xdp: true, addresses: [198.18.1.2/24]}
filter:
  default_action: pass
  later_fragments: drop
  acl:
    - {name: deny-doc, source: 192.0.2.0/24, action: deny}
    - {name: allow-mgmt, source: 10.9.0.0/16, destination: 198.18.1.2/32, action: allow}
  rate_limits:
    - {name: noisy, source: 203.0.113.0/24, packets_per_second: 1000, byte_burst: 150000,
       bytes_per_second: 1500000}
  syn_limits:
    - {name: web-syn, destination: 198.18.1.100/32, per_second: 5000}
l4:
  encap: {source4: 172.16.0.0/24, gateway_mac: "02:00:5e:00:53:01", mtu: 1500}
  vips:
    web:
      address: 198.18.1.100
      port: 80
      backends:
        - {address: 10.200.0.1}
        - {address: 10.200.0.2, weight: 3}
    dns: {address: 198.18.1.100, port: 53, protocol: udp, encap: gue,
          backends: [{address: 10.200.0.3}]}
)";

TEST(L4FilterConfig, GoodDocumentParsesIntoTypes) {
  const auto r = parse_text(kGood, "vigil.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const Config& c = r.config;
  EXPECT_TRUE(c.interfaces.at(0).xdp);
  EXPECT_EQ(c.filter.later_fragments, Verdict::kDrop);
  ASSERT_EQ(c.filter.acl.size(), 2u);
  EXPECT_EQ(c.filter.acl[1].action, Verdict::kPass);
  EXPECT_EQ(c.filter.acl[1].destination->to_string(), "198.18.1.2/32");
  ASSERT_EQ(c.filter.rate_limits.size(), 1u);
  EXPECT_EQ(c.filter.rate_limits[0].bytes_per_second, 1500000u);
  EXPECT_EQ(c.filter.syn_limits.at(0).per_second, 5000u);
  ASSERT_EQ(c.l4.vips.size(), 2u);
  EXPECT_EQ(c.l4.vips[0].name, "web");
  EXPECT_EQ(c.l4.vips[0].backends[1].weight, 3u);
  EXPECT_EQ(c.l4.vips[1].protocol, L4Protocol::kUdp);
  EXPECT_EQ(c.l4.vips[1].encap, EncapKind::kGue);
  EXPECT_EQ((*c.l4.gateway_mac)[5], 0x01);
}

struct Bad {
  const char* description;
  const char* doc;
  const char* error;
};

class L4FilterErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(L4FilterErrors, SaysWhatAndWhere) {
  const auto r = parse_text(GetParam().doc, "vigil.yaml");
  EXPECT_EQ(r.errors.to_string(), std::string(GetParam().error) + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Table, L4FilterErrors,
    ::testing::Values(
        Bad{"ACL action misspelt",
            "filter:\n  acl:\n    - {name: a, source: 10.0.0.0/8, action: drop}\n",
            "filter.acl[0].action (3:45): must be allow or deny, got \"drop\""},
        Bad{"ACL families differ",
            "filter:\n  acl:\n    - {name: a, source: 10.0.0.0/8, destination: \"fd00::/8\", "
            "action: deny}\n",
            "filter.acl[0].destination (3:50): IPv6 destination with an IPv4 source"},
        Bad{"ACL names repeat",
            "filter:\n  acl:\n    - {name: a, action: deny}\n    - {name: a, action: allow}\n",
            "filter.acl[1].name (4:14): another entry is named \"a\""},
        Bad{"rate limit without a rate",
            "filter:\n  rate_limits:\n    - {name: r, source: 10.0.0.0/8}\n",
            "filter.rate_limits[0] (3:7): a rate limit needs packets_per_second, "
            "bytes_per_second or both"},
        Bad{"two limits on one source",
            "filter:\n  rate_limits:\n    - {name: r, source: 10.0.0.0/8, packets_per_second: 1}\n"
            "    - {name: s, source: 10.0.0.0/8, packets_per_second: 2}\n",
            "filter.rate_limits[1].source (4:25): 10.0.0.0/8 is limited already by \"r\""},
        Bad{"VIP without gateway",
            "interfaces:\n  wan1: {role: wan, xdp: true}\nl4:\n  encap: {source4: 172.16.0.0/24}\n"
            "  vips:\n    web: {address: 10.1.1.1, port: 80, backends: [{address: 10.2.2.2}]}\n",
            "l4.encap (4:10): VIPs need encap.gateway_mac, the next hop toward their backends"},
        Bad{"bad MAC", "l4:\n  encap: {gateway_mac: \"02:00:5e\"}\n",
            "l4.encap.gateway_mac (2:24): \"02:00:5e\" is not a MAC address (02:00:5e:00:53:01)"},
        Bad{"IPv6 backend without an IPv6 source",
            "interfaces:\n  wan1: {role: wan, xdp: true}\nl4:\n  encap: {gateway_mac: "
            "\"02:00:00:00:00:01\"}\n"
            "  vips:\n    web: {address: 10.1.1.1, port: 80, backends: [{address: \"fd00::2\"}]}\n",
            "l4.encap (4:10): IPv6 backends need encap.source6"},
        Bad{"backend twice",
            "interfaces:\n  wan1: {role: wan, xdp: true}\nl4:\n  encap: {gateway_mac: "
            "\"02:00:00:00:00:01\", "
            "source4: 172.16.0.0/24}\n  vips:\n    web: {address: 10.1.1.1, port: 80, backends: "
            "[{address: 10.2.2.2}, {address: 10.2.2.2}]}\n",
            "l4.vips.web.backends[1].address (6:82): 10.2.2.2 is listed twice"},
        Bad{"VIPs but no XDP port",
            "interfaces:\n  wan1: {role: wan}\nl4:\n  encap: {gateway_mac: \"02:00:00:00:00:01\"}\n"
            "  vips:\n    web: {address: 10.1.1.1, port: 80}\n",
            "l4.vips (6:5): no interface has xdp: true, so no port would serve these VIPs"},
        Bad{"encap MTU too small", "l4:\n  encap: {mtu: 1000}\n",
            "l4.encap.mtu (2:16): must be 1328 to 9216, got 1000"}));

}  // namespace
}  // namespace vigil::config

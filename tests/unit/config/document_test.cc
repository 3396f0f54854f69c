// The config schema against a table of documents: every bad one asserts the exact error,
// with path, line, column and message.
#include "config/document.h"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

constexpr const char* kGood = R"(system:
  hostname: edge1.example.net
  users:
    alice: {role: admin}
    bob: {role: viewer}
  management:
    addresses: [10.1.1.1]
interfaces:
  lan0:
    role: lan
    addresses: [10.1.1.1/24, "fd00:1:1::1/64"]
    vlans:
      - {id: 100, addresses: [10.1.100.1/24]}
  wan1:
    role: wan
    device: eth1
    mtu: 1420
    addresses: [198.18.1.2/30]
routing:
  static:
    - prefix: 0.0.0.0/0
      next_hops:
        - {via: 198.18.1.1, interface: wan1}
    - prefix: 10.9.0.0/16
      next_hops: [{via: 198.18.1.1, weight: 3}, {interface: lan0}]
    - {prefix: 192.0.2.0/24, blackhole: true}
monitoring:
  prometheus: {listen: "[::1]:9550"}
)";

TEST(ConfigDocument, GoodDocumentParsesIntoTypes) {
  ParseResult r = parse_text(kGood, "vigil.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  const Config& c = r.config;
  EXPECT_EQ(c.system.hostname, "edge1.example.net");
  ASSERT_EQ(c.system.users.size(), 2u);
  EXPECT_EQ(c.system.users[0].role, Role::kAdmin);
  ASSERT_EQ(c.interfaces.size(), 2u);
  EXPECT_EQ(c.interfaces[0].name, "lan0");
  EXPECT_EQ(c.interfaces[0].device, "lan0");
  EXPECT_EQ(c.interfaces[0].addresses[1].to_string(), "fd00:1:1::1/64");
  EXPECT_EQ(c.interfaces[0].vlans[0].id, 100);
  EXPECT_EQ(c.interfaces[1].device, "eth1");
  EXPECT_EQ(c.interfaces[1].mtu, 1420u);
  EXPECT_EQ(c.interfaces[1].role, InterfaceRole::kWan);
  ASSERT_EQ(c.routing.static_routes.size(), 3u);
  EXPECT_EQ(c.routing.static_routes[1].next_hops[0].weight, 3u);
  EXPECT_TRUE(c.routing.static_routes[2].blackhole);
  EXPECT_EQ(c.monitoring.prometheus_listen.to_string(), "[::1]:9550");
}

TEST(ConfigDocument, EmptyDocumentGetsDefaults) {
  ParseResult r = parse_text("", "vigil.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  EXPECT_EQ(r.config.system.hostname, "vigil");
  EXPECT_EQ(r.config.monitoring.prometheus_listen.to_string(), "127.0.0.1:9550");
}

struct Bad {
  const char* description;
  const char* document;
  const char* error;  // the first error, exactly as an operator sees it
};

class BadDocuments : public ::testing::TestWithParam<Bad> {};

TEST_P(BadDocuments, AreRejectedWithPathPositionAndReason) {
  const Bad& b = GetParam();
  ParseResult r = parse_text(b.document, "vigil.yaml");
  ASSERT_FALSE(r.ok()) << b.description;
  EXPECT_EQ(r.errors.errors().front().to_string(), b.error) << r.errors.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadDocuments,
    ::testing::Values(
        Bad{"syntax", "system:\n  hostname: [x\n",
            "(document): vigil.yaml (3:1): end of sequence flow not found"},
        Bad{"unknown section", "sytem: {}\n",
            "sytem (1:1): unknown key \"sytem\"; did you mean \"system\"?"},
        Bad{"unsupported section", "qos: {}\n",
            "qos (1:1): \"qos\" is not supported yet by this build (arrives with the QoS "
            "issue)"},
        Bad{"unsupported subsection", "monitoring:\n  snmp: {}\n",
            "monitoring.snmp (2:3): \"snmp\" is not supported yet by this build (arrives with "
            "the SNMP subagent)"},
        Bad{"section of the wrong kind", "system: [a, b]\n",
            "system (1:9): expected a mapping, got a list"},
        Bad{"bad hostname", "system: {hostname: -edge}\n",
            "system.hostname (1:20): \"-edge\" is not a valid host name (RFC 1123)"},
        Bad{"bad role", "system:\n  users:\n    alice: {role: root}\n",
            "system.users.alice.role (3:19): must be admin, operator or viewer, got \"root\""},
        Bad{"bad user name", "system:\n  users:\n    Alice: {role: admin}\n",
            "system.users.Alice (3:12): \"Alice\" is not a valid Unix user name"},
        Bad{"user without role", "system:\n  users:\n    alice: {}\n",
            "system.users.alice (3:12): missing required key \"role\""},
        Bad{"management address on no interface",
            "system:\n  management:\n    addresses: [10.9.9.9]\n",
            "system.management.addresses[0] (3:17): 10.9.9.9 is not an address of any interface"},
        Bad{"interface without role", "interfaces:\n  lan0: {addresses: [10.0.0.1/24]}\n",
            "interfaces.lan0 (2:9): missing required key \"role\""},
        Bad{"bad interface role", "interfaces:\n  lan0: {role: dmz}\n",
            "interfaces.lan0.role (2:16): must be lan or wan, got \"dmz\""},
        Bad{"invalid CIDR", "interfaces:\n  lan0: {role: lan, addresses: [10.0.0.1/33]}\n",
            "interfaces.lan0.addresses[0] (2:33): prefix length \"33\" must be 0 to 32"},
        Bad{"not an address", "interfaces:\n  lan0: {role: lan, addresses: [10.0.0/24]}\n",
            "interfaces.lan0.addresses[0] (2:33): \"10.0.0\" is not an IPv4 or IPv6 address"},
        Bad{"mtu range", "interfaces:\n  lan0: {role: lan, mtu: 20000}\n",
            "interfaces.lan0.mtu (2:26): must be 68 to 9216, got 20000"},
        Bad{"mtu type", "interfaces:\n  lan0: {role: lan, mtu: big}\n",
            "interfaces.lan0.mtu (2:26): expected an integer, got \"big\""},
        Bad{"overlapping subnets",
            "interfaces:\n  lan0: {role: lan, addresses: [10.1.0.1/16]}\n"
            "  lan1: {role: lan, addresses: [10.1.1.1/24]}\n",
            "interfaces.lan1.addresses[0] (3:33): 10.1.1.1/24 overlaps 10.1.0.1/16 on lan0; two "
            "interfaces cannot share a subnet"},
        Bad{"duplicate address",
            "interfaces:\n  lan0: {role: lan, addresses: [10.1.0.1/16, 10.1.0.1/24]}\n",
            "interfaces.lan0.addresses[1] (2:46): 10.1.0.1 is already an address of lan0"},
        Bad{"duplicate VLAN",
            "interfaces:\n  lan0:\n    role: lan\n    vlans: [{id: 7}, {id: 7}]\n",
            "interfaces.lan0.vlans[1].id (4:27): VLAN 7 is already defined at "
            "interfaces.lan0.vlans[0]"},
        Bad{"shared device",
            "interfaces:\n  a: {role: lan, device: eth0}\n  b: {role: wan, device: eth0}\n",
            "interfaces.b (3:6): device \"eth0\" is already used by a"},
        Bad{"duplicate interface", "interfaces:\n  lan0: {role: lan}\n  lan0: {role: wan}\n",
            "interfaces.lan0 (3:3): duplicate name \"lan0\""},
        Bad{"bad name", "interfaces:\n  \"-x\": {role: lan}\n",
            "interfaces (2:3): invalid name \"-x\": use 1 to 63 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"},
        Bad{"unknown interface key", "interfaces:\n  lan0: {role: lan, adresses: []}\n",
            "interfaces.lan0.adresses (2:21): unknown key \"adresses\"; did you mean "
            "\"addresses\"?"},
        Bad{"host bits in a route",
            "routing:\n  static:\n    - {prefix: 10.1.1.1/16, blackhole: true}\n",
            "routing.static[0].prefix (3:16): \"10.1.1.1/16\" has host bits set; the network is "
            "10.1.0.0/16"},
        Bad{"route to unknown interface",
            "routing:\n  static:\n    - prefix: 10.0.0.0/8\n      next_hops: [{interface: wan3}]\n",
            "routing.static[0].next_hops[0].interface (4:31): no interface named \"wan3\""},
        Bad{"family mismatch",
            "routing:\n  static:\n    - prefix: 10.0.0.0/8\n      next_hops: [{via: "
            "\"fd00::1\"}]\n",
            "routing.static[0].next_hops[0].via (4:25): IPv6 next hop for an IPv4 prefix"},
        Bad{"route without next hops", "routing:\n  static:\n    - prefix: 10.0.0.0/8\n",
            "routing.static[0] (3:7): route to 10.0.0.0/8 needs next_hops (or blackhole: true)"},
        Bad{"next hop with nothing",
            "routing:\n  static:\n    - prefix: 10.0.0.0/8\n      next_hops: [{weight: 2}]\n",
            "routing.static[0].next_hops[0] (4:19): a next hop needs via, interface or both"},
        Bad{"blackhole with next hops",
            "routing:\n  static:\n    - prefix: 10.0.0.0/8\n      blackhole: true\n"
            "      next_hops: [{via: 10.0.0.1}]\n",
            "routing.static[0].next_hops (5:18): a blackhole route has no next hops"},
        Bad{"duplicate route",
            "routing:\n  static:\n    - {prefix: 10.0.0.0/8, blackhole: true}\n"
            "    - {prefix: 10.0.0.0/8, blackhole: true}\n",
            "routing.static[1].prefix (4:16): duplicate route to 10.0.0.0/8 with distance 1 "
            "(first at routing.static[0], line 3)"},
        Bad{"weight range",
            "routing:\n  static:\n    - prefix: 10.0.0.0/8\n"
            "      next_hops: [{via: 10.0.0.1, weight: 0}]\n",
            "routing.static[0].next_hops[0].weight (4:43): must be 1 to 255, got 0"},
        Bad{"listen without port", "monitoring:\n  prometheus: {listen: 127.0.0.1}\n",
            "monitoring.prometheus.listen (2:24): expected address:port (e.g. 127.0.0.1:9550 or "
            "[::1]:9550), got \"127.0.0.1\""},
        Bad{"IPv6 listen without brackets", "monitoring:\n  prometheus: {listen: \"::1:9550\"}\n",
            "monitoring.prometheus.listen (2:24): IPv6 addresses need brackets: [::1]:port"},
        Bad{"bad boolean", "monitoring:\n  prometheus: {enabled: yes please}\n",
            "monitoring.prometheus.enabled (2:25): expected true or false, got \"yes please\""},
        Bad{"SNMP is reserved", "monitoring:\n  snmp: {enabled: true}\n",
            "monitoring.snmp (2:3): \"snmp\" is not supported yet by this build (arrives with "
            "the SNMP subagent)"},
        Bad{"top level not a mapping", "- a\n",
            "(document): vigil.yaml (1:1): the top level must be a mapping of sections "
            "(system:, interfaces:, ...)"}));

TEST(ConfigDocument, ReportsEveryErrorNotJustTheFirst) {
  ParseResult r = parse_text("system: {hostname: -x}\ninterfaces:\n  lan0: {role: dmz}\nqos: {}\n",
                             "vigil.yaml");
  ASSERT_EQ(r.errors.size(), 3u) << r.errors.to_string();
  EXPECT_EQ(r.errors.to_string(),
            "system.hostname (1:20): \"-x\" is not a valid host name (RFC 1123)\n"
            "interfaces.lan0.role (3:16): must be lan or wan, got \"dmz\"\n"
            "qos (4:1): \"qos\" is not supported yet by this build (arrives with the QoS issue)\n");
}

TEST(ConfigDocument, ErrorReportIsBounded) {
  std::string doc = "interfaces:\n";
  for (int i = 0; i < 1000; ++i) {
    doc += "  if" + std::to_string(i) + ": {role: nope}\n";
  }
  ParseResult r = parse_text(doc, "vigil.yaml");
  EXPECT_EQ(r.errors.size(), ErrorList::kMaxErrors);
  EXPECT_TRUE(r.errors.truncated());
}

TEST(ConfigDocument, TenThousandRoutesParse) {
  std::string doc = "routing:\n  static:\n";
  for (int i = 0; i < 10000; ++i) {
    doc += "    - {prefix: 10." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
           ".0/24, next_hops: [{via: 192.0.2.1}]}\n";
  }
  ParseResult r = parse_text(doc, "vigil.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.to_string();
  EXPECT_EQ(r.config.routing.static_routes.size(), 10000u);
}

TEST(Document, TheBoxsOwnAddressesAreBoundedByTheClassifier) {
  std::string text = "interfaces:\n  lan0:\n    role: lan\n    addresses:\n";
  for (int i = 0; i < 257; ++i) {
    text += "      - 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + "/32\n";
  }
  auto r = parse_text(text, "vigil.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << r.errors.to_string();
  EXPECT_EQ(r.errors.errors()[0].message,
            "257 addresses of the box; the classifier holds 256 (interfaces and their VLANs)");
}

}  // namespace
}  // namespace vigil::config

// routing.bgp: what it parses into, and each mistake named where it is, FRR's silent
// surprises (an undefined policy denying everything, timers it would change, eBGP without
// policies) refused with a reason.
#include <gtest/gtest.h>

#include "config/bgp_section.h"
#include "config/document.h"

namespace vigil::config {
namespace {

constexpr const char* kBase = R"(interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24]}
  wan1: {role: wan, addresses: [198.51.100.1/30, "2001:db8:1::1/64"]}
  lo1: {role: lan, addresses: [192.0.2.1/32]}
)";

ParseResult parse_with(const std::string& routing) {
  return parse_text(std::string(kBase) + routing, "vigil.yaml");
}

TEST(BgpConfig, ParsesIntoTypes) {
  const auto r = parse_with(R"(routing:
  bgp:
    asn: 65001
    router_id: 192.0.2.1
    networks: [10.1.0.0/16, "2001:db8:10::/48"]
    restart_time: 90
    prefix_lists:
      customer: {rules: [{prefix: 10.0.0.0/8, le: 24}, {action: deny, prefix: 0.0.0.0/0, ge: 1}]}
    as_path_lists:
      short: {rules: [{regex: "^65002_"}]}
    community_lists:
      backup: {rules: [{community: "65002:666"}, {action: deny, community: no-export}]}
    policies:
      isp-in:
        rules:
          - {action: deny, match_community: backup}
          - {match_prefix_list: customer, match_as_path: short, set_local_preference: 200}
      isp-out:
        rules: [{set_med: 10, set_communities: ["65001:1", no-export], set_as_path_prepend: 2}]
    neighbors:
      - address: 198.51.100.2
        remote_as: 65002
        description: ISP one
        password_file: /etc/vigil/bgp/isp1.password
        timers: {keepalive: 3, hold: 9, connect: 5}
        bfd: {detect_multiplier: 5, receive_interval_ms: 100}
        import_policy: isp-in
        export_policy: isp-out
        max_prefixes: {limit: 1000, warning_percent: 90, restart_minutes: 5}
      - address: "2001:db8:1::2"
        remote_as: external
        families: [ipv6_unicast, ipv4_unicast]
        import_policy: isp-in
        export_policy: isp-out
      - address: 192.0.2.9
        remote_as: internal
        update_source: lo1
)");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  ASSERT_TRUE(r.config.routing.bgp);
  const BgpConfig& b = *r.config.routing.bgp;
  EXPECT_EQ(b.asn, 65001u);
  EXPECT_EQ(b.router_id.to_string(), "192.0.2.1");
  ASSERT_EQ(b.networks.size(), 2u);
  EXPECT_EQ(b.networks[1].to_string(), "2001:db8:10::/48");
  EXPECT_TRUE(b.announce_vips);
  EXPECT_TRUE(b.graceful_restart);
  EXPECT_EQ(b.restart_time, 90u);
  EXPECT_EQ(b.stalepath_time, 360u);
  ASSERT_EQ(b.prefix_lists.size(), 1u);
  ASSERT_EQ(b.prefix_lists[0].rules.size(), 2u);
  EXPECT_EQ(b.prefix_lists[0].rules[0].le, 24u);
  EXPECT_FALSE(b.prefix_lists[0].rules[1].permit);
  EXPECT_EQ(b.prefix_lists[0].rules[1].ge, 1u);
  EXPECT_EQ(b.as_path_lists[0].rules[0].pattern, "^65002_");
  EXPECT_EQ(b.community_lists[0].rules[1].pattern, "no-export");
  ASSERT_EQ(b.policies.size(), 2u);
  EXPECT_FALSE(b.policies[0].rules[0].permit);
  EXPECT_EQ(b.policies[0].rules[1].match_prefix_list, "customer");
  EXPECT_EQ(b.policies[0].rules[1].set_local_preference, 200u);
  EXPECT_EQ(b.policies[1].rules[0].set_communities,
            (std::vector<std::string>{"65001:1", "no-export"}));
  EXPECT_EQ(b.policies[1].rules[0].set_as_path_prepend, 2u);
  ASSERT_EQ(b.neighbors.size(), 3u);
  const BgpNeighbor& isp = b.neighbors[0];
  EXPECT_EQ(isp.remote_as, 65002u);
  EXPECT_EQ(isp.password_file, "/etc/vigil/bgp/isp1.password");
  ASSERT_TRUE(isp.timers);
  EXPECT_EQ(isp.timers->hold, 9u);
  ASSERT_TRUE(isp.bfd);
  EXPECT_EQ(isp.bfd->detect_multiplier, 5u);
  EXPECT_EQ(isp.bfd->transmit_interval_ms, 300u) << "the default";
  EXPECT_EQ(isp.families, std::vector<BgpFamily>{BgpFamily::kIpv4Unicast});
  EXPECT_EQ(isp.max_prefixes->restart_minutes, 5u);
  EXPECT_EQ(b.neighbors[1].remote_as_kind, BgpRemoteAs::kExternal);
  EXPECT_EQ(b.neighbors[1].families,
            (std::vector<BgpFamily>{BgpFamily::kIpv4Unicast, BgpFamily::kIpv6Unicast}));
  EXPECT_EQ(b.neighbors[2].remote_as_kind, BgpRemoteAs::kInternal);
  EXPECT_EQ(b.neighbors[2].update_source, "lo1");
  EXPECT_TRUE(b.neighbors[2].import_policy.empty()) << "iBGP takes everything without one";
}

TEST(BgpConfig, EachMistakeIsNamedWhereItIs) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"routing:\n  bgp: {router_id: 192.0.2.1}\n", "asn"},
      {"routing:\n  bgp: {asn: 0, router_id: 192.0.2.1}\n",
       "routing.bgp.asn (6:14): must be 1 to 4294967295, got 0"},
      {"routing:\n  bgp: {asn: 65001, router_id: \"2001:db8::1\"}\n",
       "routing.bgp.router_id (6:32): a router id is an IPv4 address"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 198.51.100.2, remote_as: 65002}\n",
       "routing.bgp.neighbors[0] (10:9): an eBGP neighbour needs import_policy and export_policy"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 198.51.100.2, remote_as: 65002, import_policy: nope, export_policy: "
       "nope}\n",
       "routing.bgp.neighbors[0].import_policy (10:66): no policy named \"nope\" in routing.bgp"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal}\n"
       "      - {address: 192.0.2.9, remote_as: 65001}\n",
       "neighbour 192.0.2.9 given twice"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, timers: {keepalive: 60, hold: 90}}\n",
       "keepalive 60 is more than a third of hold 90"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, timers: {hold: 2}}\n",
       "a hold time is 0 (none) or at least 3 seconds"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, multihop: 2}\n",
       "multihop is for eBGP"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, update_source: eth7}\n",
       "\"eth7\" is neither an IP address nor an interface"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, update_source: \"2001:db8::1\"}\n",
       "an IPv6 source for an IPv4 neighbour"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, description: \"a\\nrouter bgp 1\"}\n",
       "without tabs, line breaks"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, password_file: secret.txt}\n",
       "password_file"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, max_prefixes: {limit: 5, "
       "warning_only: true, restart_minutes: 1}}\n",
       "warning_only keeps the session up"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    networks: [10.1.0.0/16, "
       "10.1.0.0/16]\n",
       "10.1.0.0/16 given twice"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    prefix_lists:\n"
       "      l: {rules: [{prefix: 10.0.0.0/8, ge: 8}]}\n",
       "routing.bgp.prefix_lists.l.rules[0].ge"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    prefix_lists:\n"
       "      l: {rules: [{prefix: 10.0.0.0/8, ge: 24, le: 16}]}\n",
       "ge is more than le"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    prefix_lists:\n"
       "      l: {rules: []}\n",
       "no rules"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    as_path_lists:\n"
       "      l: {rules: [{regex: \"65002\\nrouter bgp 1\"}]}\n",
       "an AS-path regular expression is 1 to 256"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    community_lists:\n"
       "      l: {rules: [{community: \"65536:1\"}]}\n",
       "\"65536:1\" is not a community"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    policies:\n"
       "      p: {rules: [{match_prefix_list: missing}]}\n",
       "no prefix list named \"missing\" in routing.bgp"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    policies:\n"
       "      p: {rules: [{action: deny, set_med: 5}]}\n",
       "a deny rule changes nothing"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    policies:\n"
       "      p: {rules: [{set_as_path_prepend: 11}]}\n",
       "set_as_path_prepend"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbours: []\n",
       "did you mean \"neighbors\"?"},
      {"routing:\n  bgp: {asn: 65001, router_id: 0.0.0.0}\n", "a router id is not 0.0.0.0"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 198.51.100.1, remote_as: internal}\n",
       "198.51.100.1 is the box's own address (interfaces.wan1)"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: \"fe80::1\", remote_as: internal}\n",
       "fe80::1 cannot be a neighbour (unspecified, loopback, multicast or IPv6 link-local)"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 224.0.0.5, remote_as: internal}\n",
       "cannot be a neighbour"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, timers: {keepalive: 5, hold: 0}}\n",
       "with hold 0 there are no keepalives"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: 65002, multihop: 1}\n",
       "routing.bgp.neighbors[0].multihop"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n"
       "      - {address: 192.0.2.9, remote_as: internal, description: \"   \"}\n",
       "not only spaces"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    as_path_lists:\n"
       "      l: {rules: [{regex: \"(65002\"}]}\n",
       "\"(65002\" is not a regular expression FRR can compile"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    community_lists:\n"
       "      \"100\": {rules: [{community: \"65002:1\"}]}\n",
       "a community list's name is not only digits"},
      {"routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    prefix_lists:\n"
       "      l: {rules: [{prefix: 10.0.0.0/8}, {prefix: 10.0.0.0/8}]}\n",
       "routing.bgp.prefix_lists.l.rules[1] (10:41): the same rule as an earlier one"},
  };
  for (const Case& c : cases) {
    const auto r = parse_with(c.yaml);
    ASSERT_FALSE(r.errors.empty()) << c.yaml;
    EXPECT_FALSE(r.config.routing.bgp) << "nothing half-parsed: " << c.yaml;
    EXPECT_NE(r.errors.to_string().find(c.error), std::string::npos) << c.yaml << "\n"
                                                                     << r.errors.to_string();
  }
}

TEST(BgpConfig, CountsAreBounded) {
  std::string many = "routing:\n  bgp:\n    asn: 65001\n    router_id: 192.0.2.1\n    neighbors:\n";
  for (size_t i = 0; i <= kMaxBgpNeighbors; ++i) {
    many += "      - {address: 10.9.0." + std::to_string(i + 1) + ", remote_as: internal}\n";
  }
  const auto r = parse_with(many);
  EXPECT_NE(r.errors.to_string().find("more than 64 neighbours"), std::string::npos)
      << r.errors.to_string();
}

// Communities are written as FRR writes them back (a well-known one by name, no leading
// zeros, a set sorted by value, each once), or frr-reload would find them changed each time.
TEST(BgpConfig, CommunitiesAreWrittenAsFrrPrintsThem) {
  const auto r = parse_with(R"(routing:
  bgp:
    asn: 65001
    router_id: 192.0.2.1
    community_lists:
      l: {rules: [{community: "65535:65281"}, {community: "00065:0100"}]}
    policies:
      p: {rules: [{set_communities: ["65002:2", no-export, "65002:1", "65002:0001", "0:0"]}]}
)");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const BgpConfig& b = *r.config.routing.bgp;
  EXPECT_EQ(b.community_lists[0].rules[0].pattern, "no-export");
  EXPECT_EQ(b.community_lists[0].rules[1].pattern, "65:100");
  EXPECT_EQ(b.policies[0].rules[0].set_communities,
            (std::vector<std::string>{"internet", "65002:1", "65002:2", "no-export"}));
}

}  // namespace
}  // namespace vigil::config

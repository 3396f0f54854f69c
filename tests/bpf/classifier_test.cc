// The XDP classifier in the kernel, through BPF_PROG_TEST_RUN: for each crafted frame, the XDP
// action, the verdict counter that moved and, for frames the program rewrites, the output
// byte for byte (outer headers and checksums built independently by the packet builder or
// computed here). Needs root (CAP_BPF, CAP_NET_ADMIN).
#include "ebpf/loader/classifier.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "ebpf/host/parse_host.h"
#include "tests/bpf/expect_verdict.h"
#include "tests/packet/packet_builder.h"
#include "vigil/classifier_types.h"
#include "vigil/vip_filter.h"

// The flow hash the program picks a connection's set with; a C header, with C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "tests/support/net_literals.h"
#include "vigil/hash.h"
#pragma GCC diagnostic pop

namespace vigil::ebpf {
namespace {

using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

constexpr const char* kGatewayMac = "02:00:00:00:00:fe";
constexpr const char* kClientMac = "02:00:00:00:00:01";  // the builder's default source
constexpr const char* kOwnMac = "02:00:00:00:00:02";     // the builder's default destination

using vigil::test::ip;
using vigil::test::net;

ClassifierConfig base_config() {
  ClassifierConfig c;
  c.gateway_mac = {0x02, 0, 0, 0, 0, 0xfe};
  c.encap_source4 = net("172.16.0.9/32");  // no host bits: the outer source is predictable
  c.encap_source6 = net("fd00:ffff::9/128");
  c.encap_mtu = 1500;
  c.vips = {
      {.name = "web4", .address = ip("10.100.0.1"), .port = 80, .backends = {{ip("10.200.0.1")}}},
      {.name = "dns-gue",
       .address = ip("10.100.0.2"),
       .port = 53,
       .protocol = 17,
       .encap = Encap::kGue,
       .backends = {{ip("10.200.0.2")}}},
      {.name = "web6",
       .address = ip("fd00:100::1"),
       .port = 443,
       .backends = {{ip("fd00:200::1")}}},
      {.name = "web4-on-6",
       .address = ip("10.100.0.3"),
       .port = 80,
       .backends = {{ip("fd00:200::3")}}},
      {.name = "gue6",
       .address = ip("fd00:100::2"),
       .port = 53,
       .protocol = 17,
       .encap = Encap::kGue,
       .backends = {{ip("fd00:200::2")}}},
  };
  c.acl = {
      {.name = "deny-doc", .source = net("192.0.2.0/24"), .action = Action::kDrop},
      {.name = "allow-host", .source = net("198.51.100.7/32"), .action = Action::kPass},
      {.name = "deny-net", .source = net("198.51.100.0/24"), .action = Action::kDrop},
      {.name = "deny-to-dead", .destination = net("fd00:dead::/32"), .action = Action::kDrop},
      {.name = "deny-pair",
       .source = net("10.9.0.0/16"),
       .destination = net("10.0.0.1/32"),
       .action = Action::kDrop},
  };
  c.rate_limits = {{.name = "noisy",
                    .source = net("203.0.113.0/24"),
                    .policer = {.packets_per_second = 1, .packet_burst = 3}}};
  c.syn_limits = {
      {.name = "syn-guard", .destination = net("10.0.0.9/32"), .per_second = 1, .burst = 2}};
  c.local_addresses = {ip("10.0.0.1"), ip("10.0.0.9"), ip("fd00::1")};
  c.local_ports = {{.protocol = 6, .port = 22},
                   {.protocol = 6, .port = 179},
                   {.protocol = 17, .port = 51820, .action = Action::kFastPath}};
  return c;
}

// One's-complement sum over `bytes` (with an optional starting sum): 0xffff when a checksum
// over them is right.
uint16_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

std::string hex(const Frame& f) {
  std::string out;
  char b[4];
  for (size_t i = 0; i < f.size(); ++i) {
    std::snprintf(b, sizeof(b), "%02x", f[i]);
    out += b;
    if (i % 16 == 15) {
      out += '\n';
    } else {
      out += ' ';
    }
  }
  return out;
}

// The packets counted under one name in a list of named counters (events, ACL rules).
uint64_t packets_named(const std::vector<NamedCount>& counts, const char* name) {
  for (const auto& c : counts) {
    if (c.name == name) {
      return c.count.packets;
    }
  }
  ADD_FAILURE() << "no counter named " << name;
  return 0;
}

uint64_t event(const ClassifierCounters& c, const char* name) {
  return packets_named(c.events, name);
}

uint64_t rule_packets(const ClassifierCounters& c, const char* name) {
  return packets_named(c.acl_rules, name);
}

// A fresh program and maps per test: token buckets and the connection table start empty.
class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root for BPF_PROG_TEST_RUN";
    }
    // Each CPU has its own connection table, and a test run goes on the caller's CPU: one
    // CPU for every run, as a flow stays on one receive queue.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    auto c = Classifier::load({});
    ASSERT_TRUE(c.ok()) << c.error();
    classifier_ = std::move(*c);
    auto s = classifier_->apply(base_config());
    ASSERT_TRUE(s.ok()) << s.error();
  }

  // Runs the frame; checks the action and that exactly `verdict` counted it.
  Frame expect(const Frame& in, int action, const std::string& verdict) {
    return test::expect_verdict(*classifier_, in, action, verdict);
  }

  std::unique_ptr<Classifier> classifier_;
};

// ---- parse paths and malformed shapes ------------------------------------------------------

struct ParseCase {
  const char* description;
  std::function<Frame()> frame;
  int action;
  const char* verdict;
  const char* malformed = nullptr;  // the reason counted, for drops
};

Frame cut(Frame f, size_t len) {
  f.resize(len);
  return f;
}

Frame set(Frame f, size_t at, uint8_t v) {
  f.at(at) = v;
  return f;
}

const ParseCase kParseCases[] = {
    {"ARP is not IP: to the kernel",
     [] {
       auto f = PacketBuilder().eth().payload(28).build();
       put16(f, 12, 0x0806);
       return f;
     },
     XDP_PASS, "pass_not_ip"},
    {"SSH to the box over IPv4",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 22).build(); },
     XDP_PASS, "pass_local_service"},
    {"SSH to the box in a VLAN",
     [] {
       return PacketBuilder().eth().vlan(10).ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 22).build();
     },
     XDP_PASS, "pass_local_service"},
    {"BGP to the box in QinQ",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(100, 0x88a8)
           .vlan(10)
           .ipv4("10.5.0.2", "10.0.0.1")
           .tcp(40000, 179)
           .build();
     },
     XDP_PASS, "pass_local_service"},
    {"IPv4 with options to the box",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1", 0, 8).tcp(40000, 22).build(); },
     XDP_PASS, "pass_local_service"},
    {"SSH over IPv6 behind hop-by-hop and destination options",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("fd00:5::2", "fd00::1")
           .ipv6_ext(0)
           .ipv6_ext(60, 1)
           .tcp(40000, 22)
           .build();
     },
     XDP_PASS, "pass_local_service"},
    {"ping to the box",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").icmp(8, 0).build(); }, XDP_PASS,
     "pass_local_service"},
    {"closed port on the box: default policy (pass)",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 8080).build(); },
     XDP_PASS, "pass_default_policy"},
    {"WireGuard to the box with no fast path socket: to the kernel",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").udp(51820, 51820).build(); },
     XDP_PASS, "pass_fast_path_down"},
    {"OSPF multicast",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "224.0.0.5").payload(40).build(); },
     XDP_PASS, "pass_multicast_or_link_local"},
    {"IPv6 neighbour solicitation to a solicited-node group",
     [] { return PacketBuilder().eth().ipv6("fe80::1", "ff02::1:ff00:1").icmp(135, 0).build(); },
     XDP_PASS, "pass_multicast_or_link_local"},
    {"later IPv4 fragment: passed by policy",
     [] { return PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1", 185).payload(64).build(); },
     XDP_PASS, "pass_later_fragment"},
    // A frame shorter than an Ethernet header never reaches XDP (BPF_PROG_TEST_RUN refuses it
    // too); the host parser's tests cover that shape.
    {"truncated VLAN tag",
     [] { return cut(PacketBuilder().eth().vlan(7).ipv4("1.1.1.1", "2.2.2.2").build(), 16); },
     XDP_DROP, "drop_malformed", "truncated_vlan"},
    {"three VLAN tags",
     [] {
       return PacketBuilder()
           .eth()
           .vlan(1, 0x88a8)
           .vlan(2, 0x8100)
           .vlan(3)
           .ipv4("1.1.1.1", "2.2.2.2")
           .build();
     },
     XDP_DROP, "drop_malformed", "too_many_vlans"},
    {"truncated IPv4 header",
     [] { return cut(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 30); }, XDP_DROP,
     "drop_malformed", "truncated_ipv4"},
    {"IPv4 header with version 5",
     [] { return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 14, 0x55); },
     XDP_DROP, "drop_malformed", "bad_ipv4_version"},
    {"IPv4 IHL of 4 words",
     [] { return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").build(), 14, 0x44); },
     XDP_DROP, "drop_malformed", "bad_ipv4_ihl"},
    {"IPv4 total length beyond the frame",
     [] {
       return set(PacketBuilder().eth().ipv4("1.1.1.1", "2.2.2.2").udp(1, 2).build(), 16, 0x09);
     },
     XDP_DROP, "drop_malformed", "bad_ipv4_length"},
    {"truncated IPv6 header",
     [] { return cut(PacketBuilder().eth().ipv6("fd00::2", "fd00::1").build(), 40); }, XDP_DROP,
     "drop_malformed", "truncated_ipv6"},
    {"IPv6 payload length beyond the frame",
     [] {
       return set(PacketBuilder().eth().ipv6("fd00::2", "fd00::1").udp(1, 2).build(), 18, 0x10);
     },
     XDP_DROP, "drop_malformed", "bad_ipv6_length"},
    {"five IPv6 extension headers",
     [] {
       return PacketBuilder()
           .eth()
           .ipv6("fd00::2", "fd00::1")
           .ipv6_ext(0)
           .ipv6_ext(60)
           .ipv6_ext(43)
           .ipv6_ext(60)
           .ipv6_ext(60)
           .udp(1, 2)
           .build();
     },
     XDP_DROP, "drop_malformed", "too_many_ipv6_ext_headers"},
    {"truncated TCP header",
     [] {
       auto f = PacketBuilder().eth().ipv4("1.1.1.1", "10.0.0.1").tcp(1, 22).build();
       f.resize(14 + 20 + 10);
       put16(f, 16, 30);
       return f;
     },
     XDP_DROP, "drop_malformed", "truncated_l4"},
    {"TCP data offset of 4 words",
     [] {
       return set(PacketBuilder().eth().ipv4("1.1.1.1", "10.0.0.1").tcp(1, 22).build(), 46, 0x40);
     },
     XDP_DROP, "drop_malformed", "bad_tcp_data_offset"},
};

TEST_F(ClassifierTest, ParsePathsAndMalformedFrames) {
  for (const auto& c : kParseCases) {
    SCOPED_TRACE(c.description);
    const auto before = classifier_->counters();
    expect(c.frame(), c.action, c.verdict);
    if (c.malformed != nullptr) {
      const auto after = classifier_->counters();
      for (size_t i = 0; i < after.malformed.size(); ++i) {
        const uint64_t moved = after.malformed[i].count.packets - before.malformed[i].count.packets;
        EXPECT_EQ(moved, after.malformed[i].name == c.malformed ? 1u : 0u)
            << after.malformed[i].name;
      }
    }
  }
}

TEST_F(ClassifierTest, UnconfiguredClassifierPassesEverything) {
  auto fresh = Classifier::load({});
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  const auto frame = PacketBuilder().eth().ipv4("192.0.2.1", "10.100.0.1").tcp(1, 80).build();
  auto r = (*fresh)->run(frame);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->action, XDP_PASS);
  EXPECT_EQ((*fresh)->counters().verdict("pass_unconfigured").packets, 1u);
}

// ---- policy ----------------------------------------------------------------------------------

TEST_F(ClassifierTest, AclFirstMatchingRuleDecides) {
  struct Case {
    const char* src;
    const char* dst;
    int action;
    const char* verdict;
    const char* rule;  // the rule that counted, if any
  };
  const Case cases[] = {
      {"192.0.2.5", "10.0.0.1", XDP_DROP, "drop_acl", "deny-doc"},
      {"198.51.100.7", "10.0.0.1", XDP_PASS, "pass_local_service", "allow-host"},
      {"198.51.100.8", "10.0.0.1", XDP_DROP, "drop_acl", "deny-net"},
      {"10.9.3.4", "10.0.0.1", XDP_DROP, "drop_acl", "deny-pair"},
      {"10.9.3.4", "10.0.0.9", XDP_PASS, "pass_local_service", nullptr},  // other destination
      {"10.8.3.4", "10.0.0.1", XDP_PASS, "pass_local_service", nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.src) + " -> " + c.dst);
    const auto before = classifier_->counters();
    expect(PacketBuilder().eth().ipv4(c.src, c.dst).tcp(40000, 22).build(), c.action, c.verdict);
    const auto after = classifier_->counters();
    for (size_t i = 0; i < after.acl_rules.size(); ++i) {
      const uint64_t moved = after.acl_rules[i].count.packets - before.acl_rules[i].count.packets;
      EXPECT_EQ(moved, c.rule != nullptr && after.acl_rules[i].name == c.rule ? 1u : 0u)
          << after.acl_rules[i].name;
    }
  }
  expect(PacketBuilder().eth().ipv6("fd00:5::1", "fd00:dead::1").udp(1, 2).build(), XDP_DROP,
         "drop_acl");
  expect(PacketBuilder().eth().ipv6("fd00:5::1", "fd00::1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");
}

TEST_F(ClassifierTest, RateLimitPassesTheBurstThenDrops) {
  const auto frame = PacketBuilder().eth().ipv4("203.0.113.5", "10.0.0.1").tcp(1, 22).build();
  for (int i = 0; i < 3; ++i) {
    expect(frame, XDP_PASS, "pass_local_service");  // under: the burst of 3
  }
  expect(frame, XDP_DROP, "drop_rate_limit");  // over: 1/s refills far slower than this
  expect(PacketBuilder().eth().ipv4("203.0.113.77", "10.0.0.1").tcp(1, 22).build(), XDP_DROP,
         "drop_rate_limit");  // the whole prefix shares the bucket
  expect(PacketBuilder().eth().ipv4("203.0.114.5", "10.0.0.1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");  // outside it
  const auto counters = classifier_->counters();
  ASSERT_EQ(counters.policers.size(), 2u);
  EXPECT_EQ(counters.policers[0].name, "noisy");
  EXPECT_EQ(counters.policers[0].passed.packets, 3u);
  EXPECT_EQ(counters.policers[0].dropped.packets, 2u);
}

TEST_F(ClassifierTest, SynLimitPerDestinationSparesEstablishedFlows) {
  const auto syn = PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.9").tcp(1, 22, 0x02).build();
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.9").tcp(1, 22, 0x10).build();
  expect(syn, XDP_PASS, "pass_local_service");
  expect(syn, XDP_PASS, "pass_local_service");
  expect(syn, XDP_DROP, "drop_syn_limit");
  expect(ack, XDP_PASS, "pass_local_service");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 22, 0x02).build(), XDP_PASS,
         "pass_local_service");  // another destination
}

TEST_F(ClassifierTest, DefaultDropAndFragmentPolicies) {
  auto config = base_config();
  config.default_action = Action::kDrop;
  config.later_fragments = Action::kDrop;
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 8080).build(), XDP_DROP,
         "drop_default_policy");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.7.0.1").tcp(1, 80).build(), XDP_DROP,
         "drop_default_policy");  // transit, not steered
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1", 100).payload(64).build(), XDP_DROP,
         "drop_later_fragment");
  expect(PacketBuilder().eth().ipv6("fd00:5::2", "fd00::1").ipv6_frag(10, false).payload(8).build(),
         XDP_DROP, "drop_later_fragment");
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(1, 22).build(), XDP_PASS,
         "pass_local_service");
  config.steer_transit = true;
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(PacketBuilder().eth().ipv4("10.5.0.2", "10.7.0.1").tcp(1, 80).build(), XDP_PASS,
         "pass_fast_path_down");  // steered, but no AF_XDP socket in a test run
}

// ---- VIPs: encapsulation byte for byte -------------------------------------------------------

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

// ---- ICMP errors for oversize packets --------------------------------------------------------

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

// ---- connection table ------------------------------------------------------------------------

uint32_t backend_of(const Frame& out) {
  uint32_t dst;
  std::memcpy(&dst, &out.at(30), 4);  // outer IPv4 destination
  return dst;
}

TEST_F(ClassifierTest, EstablishedFlowsKeepTheirBackendWhenTheSetChanges) {
  auto config = base_config();
  config.vips[0].backends = {{ip("10.200.0.1")}, {ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  std::vector<Frame> flows;
  std::vector<uint32_t> first;
  for (uint16_t port = 2000; port < 2100; ++port) {
    flows.push_back(PacketBuilder().eth().ipv4("10.5.0.3", "10.100.0.1").tcp(port, 80).build());
    first.push_back(backend_of(expect(flows.back(), XDP_TX, "tx_vip_encapsulated")));
  }
  // A third backend: Maglev would move about a third of the flows, the table keeps them.
  config.vips[0].backends.push_back({ip("10.200.0.3")});
  ASSERT_TRUE(classifier_->apply(config).ok());
  for (size_t i = 0; i < flows.size(); ++i) {
    EXPECT_EQ(backend_of(expect(flows[i], XDP_TX, "tx_vip_encapsulated")), first[i]) << i;
  }
  int new_flows_on_third = 0;
  for (uint16_t port = 3000; port < 3100; ++port) {
    const auto out =
        expect(PacketBuilder().eth().ipv4("10.5.0.3", "10.100.0.1").tcp(port, 80).build(), XDP_TX,
               "tx_vip_encapsulated");
    new_flows_on_third += backend_of(out) == inet_addr("10.200.0.3");
  }
  EXPECT_GT(new_flows_on_third, 15) << "new flows use the new backend";

  // Removing 10.200.0.1: its flows move, the others stay.
  config.vips[0].backends.erase(config.vips[0].backends.begin());
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto stale_before = classifier_->counters();
  int moved = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    const uint32_t now = backend_of(expect(flows[i], XDP_TX, "tx_vip_encapsulated"));
    if (first[i] == inet_addr("10.200.0.1")) {
      EXPECT_NE(now, first[i]);
      ++moved;
    } else {
      EXPECT_EQ(now, first[i]) << i;
    }
  }
  EXPECT_GT(moved, 0);
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, "vip_connection_stale") - event(stale_before, "vip_connection_stale"),
            static_cast<uint64_t>(moved));
}

// A connection hit reads no VIP entry: the backend entry carries the VIP's encapsulation and
// counters, and removing the VIP deactivates its backends. So an established flow follows an
// encapsulation change from its next packet (still on its backend), and stops being balanced
// when its VIP goes.
TEST_F(ClassifierTest, EstablishedFlowsFollowTheirVipsEncapsulationAndRemoval) {
  const auto flow = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4343, 80).build();
  const auto ipip = expect(flow, XDP_TX, "tx_vip_encapsulated");
  ASSERT_GT(ipip.size(), 23u);
  EXPECT_EQ(ipip[23], 4) << "outer protocol: IPIP";

  auto config = base_config();
  config.vips[0].encap = Encap::kGue;
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto before = classifier_->counters();
  const auto gue = expect(flow, XDP_TX, "tx_vip_encapsulated");
  ASSERT_GT(gue.size(), 23u);
  EXPECT_EQ(gue[23], 17) << "outer protocol: UDP (GUE)";
  EXPECT_EQ(backend_of(gue), backend_of(ipip));
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, "vip_connection_hit"), event(before, "vip_connection_hit") + 1)
      << "the same connection, not a new pick";
  EXPECT_EQ(packets_named(after.vips, "web4"), packets_named(before.vips, "web4") + 1)
      << "a hit counts under its VIP";

  config.vips.erase(config.vips.begin());
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(flow, XDP_PASS, "pass_default_policy");
}

// The program counts VIPs and backends in the per-CPU stats record and only ever adds to it; a
// backend that takes over a removed one's index counts from zero all the same, in packets and
// in bytes.
TEST_F(ClassifierTest, ANewBackendOnAReusedIndexCountsFromZero) {
  auto backend_count = [&](const char* address) {
    for (const auto& b : classifier_->counters().backends) {
      if (b.address == address) {
        return b.count;
      }
    }
    ADD_FAILURE() << "no counter for backend " << address;
    return Count{};
  };
  const auto first = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4000, 80).build();
  for (int i = 0; i < 3; ++i) {
    expect(first, XDP_TX, "tx_vip_encapsulated");
  }
  EXPECT_EQ(backend_count("10.200.0.1").packets, 3u);
  EXPECT_EQ(backend_count("10.200.0.1").bytes, 3 * first.size());
  EXPECT_EQ(packets_named(classifier_->counters().vips, "web4"), 3u);

  // 10.200.0.2 comes in beside it, then 10.200.0.1 leaves, then 10.200.0.3 takes its index.
  auto config = base_config();
  config.vips[0].backends = {{ip("10.200.0.1")}, {ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  config.vips[0].backends = {{ip("10.200.0.2")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  config.vips[0].backends = {{ip("10.200.0.2")}, {ip("10.200.0.3")}};
  ASSERT_TRUE(classifier_->apply(config).ok());
  EXPECT_EQ(backend_count("10.200.0.3").packets, 0u);
  EXPECT_EQ(backend_count("10.200.0.3").bytes, 0u);

  uint64_t to_third = 0;
  uint64_t bytes_to_third = 0;
  for (uint16_t port = 5000; port < 5040; ++port) {
    const auto f = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(port, 80).build();
    if (backend_of(expect(f, XDP_TX, "tx_vip_encapsulated")) == inet_addr("10.200.0.3")) {
      ++to_third;
      bytes_to_third += f.size();
    }
  }
  ASSERT_GT(to_third, 0u) << "Maglev gives the new backend about half the new flows";
  EXPECT_EQ(backend_count("10.200.0.3").packets, to_third);
  EXPECT_EQ(backend_count("10.200.0.3").bytes, bytes_to_third);
  EXPECT_EQ(packets_named(classifier_->counters().vips, "web4"), 3u + 40u) << "the VIP goes on";
}

// The connection table is per CPU, in sets of VIGIL_CONN_WAYS: a hit moves a connection one way
// up, a new one takes an empty way or evicts the last. So when a set overflows, the flow that
// sent once goes, and the flows that kept sending stay.
TEST_F(ClassifierTest, AFullConnectionSetEvictsTheFlowThatSentOnce) {
  const uint32_t sets = connection_sets_per_cpu(libbpf_num_possible_cpus());
  auto frame = [](uint16_t port) {
    return PacketBuilder().eth().ipv4("10.5.0.7", "10.100.0.1").tcp(port, 80, 0x10).build();
  };
  auto set_of = [&](uint16_t port) {
    const Frame f = frame(port);
    vigil_packet p{};
    EXPECT_EQ(vigil_parse_frame(f.data(), f.size(), &p), VIGIL_PARSE_OK);
    return vigil_conn_hash(&p) & (sets - 1);
  };
  // Five flows that share a set.
  std::vector<uint16_t> ports = {20000};
  for (uint16_t port = 20001; ports.size() < VIGIL_CONN_WAYS + 1; ++port) {
    ASSERT_LT(port, 65000) << "no five flows share a set";
    if (set_of(port) == set_of(ports[0])) {
      ports.push_back(port);
    }
  }
  // The flow that will send once comes first, in the top way: only the moves up that the
  // others' second packets make can bring it down to the last way.
  const uint16_t once = ports[0];
  const std::vector<uint16_t> kept(ports.begin() + 1, ports.begin() + VIGIL_CONN_WAYS);
  auto events = [&] { return classifier_->counters(); };
  for (size_t i = 0; i < VIGIL_CONN_WAYS; ++i) {  // fill the set
    expect(frame(ports[i]), XDP_TX, "tx_vip_encapsulated");
  }
  auto before = events();
  for (const uint16_t port : kept) {
    expect(frame(port), XDP_TX, "tx_vip_encapsulated");
  }
  auto after = events();
  EXPECT_EQ(event(after, "vip_connection_hit") - event(before, "vip_connection_hit"), kept.size());
  EXPECT_EQ(event(after, "vip_connection_evicted"), 0u);

  before = after;
  expect(frame(ports[VIGIL_CONN_WAYS]), XDP_TX, "tx_vip_encapsulated");  // a fifth flow
  after = events();
  EXPECT_EQ(event(after, "vip_connection_evicted") - event(before, "vip_connection_evicted"), 1u);

  before = after;
  for (const uint16_t port : kept) {
    expect(frame(port), XDP_TX, "tx_vip_encapsulated");
  }
  after = events();
  EXPECT_EQ(event(after, "vip_connection_hit") - event(before, "vip_connection_hit"), kept.size())
      << "the flows that kept sending are still there";
  before = after;
  expect(frame(once), XDP_TX, "tx_vip_encapsulated");
  after = events();
  EXPECT_EQ(event(after, "vip_connection_miss") - event(before, "vip_connection_miss"), 1u)
      << "the flow that sent once was the one evicted";
}

// ---- what a connection remembers of the policy --------------------------------------------

constexpr const char* kRemembered = "vip_policy_from_connection";

TEST_F(ClassifierTest, EstablishedVipFlowsFollowAnAclChangeAtOnce) {
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4242, 80, 0x10).build();
  expect(ack, XDP_TX, "tx_vip_encapsulated");  // makes the connection
  auto before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1)
      << "the second packet of the flow skipped the policy lookups";

  auto config = base_config();
  config.acl.push_back(
      {.name = "deny-clients", .source = net("10.5.0.0/16"), .action = Action::kDrop});
  ASSERT_TRUE(classifier_->apply(config).ok());
  before = classifier_->counters();
  expect(ack, XDP_DROP, "drop_acl");
  auto after = classifier_->counters();
  EXPECT_EQ(rule_packets(after, "deny-clients"), 1u);
  EXPECT_EQ(event(after, kRemembered), event(before, kRemembered))
      << "a new ACL generation sends the flow through the tries again";

  config.acl.pop_back();
  ASSERT_TRUE(classifier_->apply(config).ok());
  expect(ack, XDP_TX, "tx_vip_encapsulated");  // looked up, and remembered again
  before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1);
}

TEST_F(ClassifierTest, RememberedPolicyStillCountsTheRuleAndChargesThePolicer) {
  auto config = base_config();
  config.acl.push_back(
      {.name = "allow-clients", .source = net("10.5.0.0/16"), .action = Action::kPass});
  config.rate_limits.push_back({.name = "clients",
                                .source = net("10.5.0.0/16"),
                                .policer = {.packets_per_second = 1, .packet_burst = 3}});
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4243, 80, 0x10).build();
  const auto before = classifier_->counters();
  for (int i = 0; i < 3; ++i) {
    expect(ack, XDP_TX, "tx_vip_encapsulated");
  }
  expect(ack, XDP_DROP, "drop_rate_limit");  // the remembered policer's bucket is empty
  const auto after = classifier_->counters();
  EXPECT_EQ(event(after, kRemembered) - event(before, kRemembered), 3u);
  EXPECT_EQ(rule_packets(after, "allow-clients"), 4u) << "every packet counts under its rule";
  ASSERT_EQ(after.policers.size(), 3u);
  EXPECT_EQ(after.policers[1].name, "clients");
  EXPECT_EQ(after.policers[1].passed.packets, 3u);
  EXPECT_EQ(after.policers[1].dropped.packets, 1u);
}

TEST_F(ClassifierTest, BareSynsOfAKnownFlowStillMeetTheSynLimit) {
  auto config = base_config();
  config.syn_limits.push_back(
      {.name = "vip-syns", .destination = net("10.100.0.1/32"), .per_second = 1, .burst = 2});
  ASSERT_TRUE(classifier_->apply(config).ok());
  const auto syn = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4244, 80).build();
  const auto ack = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(4244, 80, 0x10).build();
  expect(syn, XDP_TX, "tx_vip_encapsulated");
  expect(syn, XDP_TX, "tx_vip_encapsulated");  // its connection exists: the limit still applies
  expect(syn, XDP_DROP, "drop_syn_limit");
  const auto before = classifier_->counters();
  expect(ack, XDP_TX, "tx_vip_encapsulated");
  EXPECT_EQ(event(classifier_->counters(), kRemembered), event(before, kRemembered) + 1);
}

// ---- the code the verifier made ---------------------------------------------------------

// Kernel symbol addresses by name, for the few names asked; empty when the kernel hides them.
std::map<std::string, uint64_t> kernel_symbols(const std::set<std::string>& names) {
  std::map<std::string, uint64_t> out;
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string address, type, name;
    fields >> address >> type >> name;
    if (names.contains(name) && !out.contains(name)) {
      out[name] = std::stoull(address, nullptr, 16);
    }
  }
  if (std::any_of(out.begin(), out.end(), [](const auto& e) { return e.second == 0; })) {
    out.clear();
  }
  return out;
}

// A map call the verifier can tie to one map becomes a direct call to that map's own function
// (or inline code); one it cannot (the compiler merged lookups in two maps into one call,
// choosing the map by a branch) stays the generic helper, an indirect call through the map's
// ops that cost 15-30 ns a packet when it happened to the ACL and rate-limit tries.
TEST_F(ClassifierTest, EveryMapCallIsDirect) {
  const auto symbols =
      kernel_symbols({"__bpf_call_base", "bpf_map_lookup_elem", "bpf_map_update_elem"});
  if (symbols.size() != 3) {
    GTEST_SKIP() << "kernel symbol addresses are hidden (kptr_restrict)";
  }
  const int fd = classifier_->program_fd();
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &length), 0);
  std::vector<bpf_insn> code(info.xlated_prog_len / sizeof(bpf_insn));
  ASSERT_FALSE(code.empty());
  info = {};
  info.xlated_prog_len = static_cast<uint32_t>(code.size() * sizeof(bpf_insn));
  info.xlated_prog_insns = reinterpret_cast<uint64_t>(code.data());
  length = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &length), 0);
  auto is_helper_call = [](const bpf_insn& insn) {
    return insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0;  // not a subprogram/kfunc
  };
  if (std::none_of(code.begin(), code.end(),
                   [&](const bpf_insn& insn) { return is_helper_call(insn) && insn.imm != 0; })) {
    GTEST_SKIP() << "the kernel hid the call targets in the dump";
  }
  int helper_calls = 0;
  for (size_t i = 0; i < code.size(); ++i) {
    if (!is_helper_call(code[i])) {
      continue;
    }
    ++helper_calls;
    const uint64_t target = symbols.at("__bpf_call_base") + static_cast<int64_t>(code[i].imm);
    EXPECT_NE(target, symbols.at("bpf_map_lookup_elem")) << "generic lookup at insn " << i;
    EXPECT_NE(target, symbols.at("bpf_map_update_elem")) << "generic update at insn " << i;
  }
  EXPECT_GT(helper_calls, 5);
}

}  // namespace
}  // namespace vigil::ebpf

namespace vigil::ebpf {
namespace {

// Pinned maps outlive the loader; a new one adopts them, counters and connections included.
TEST(ClassifierPinningTest, ANewLoaderAdoptsPinnedMaps) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  const std::string dir = "/sys/fs/bpf/vigil-test-" + std::to_string(getpid());
  const auto frame = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(5555, 80).build();
  Frame first_out;
  {
    auto c = Classifier::load({.pin_dir = dir});
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_FALSE((*c)->adopted());
    ASSERT_TRUE((*c)->apply(base_config()).ok());
    auto r = (*c)->run(frame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->action, XDP_TX);
    first_out = r->output;
  }
  auto c = Classifier::load({.pin_dir = dir});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE((*c)->adopted());
  EXPECT_EQ((*c)->counters().verdict("tx_vip_encapsulated").packets, 1u);
  auto r = (*c)->run(frame);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, first_out);
  ASSERT_TRUE((*c)->apply(base_config()).ok());
  const auto counters = (*c)->counters();
  EXPECT_EQ(counters.verdict("tx_vip_encapsulated").packets, 2u);
  bool hit = false;
  for (const auto& e : counters.events) {
    hit = hit || (e.name == "vip_connection_hit" && e.count.packets == 1);
  }
  EXPECT_TRUE(hit) << "the second packet found the first one's connection";
  ASSERT_TRUE((*c)->detach().ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/vips")) << "detach unpins the maps";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace vigil::ebpf

// The route stage through the forwarding pipeline, table-driven like the BPF tests: a frame
// in, what must come out (port and exact bytes, the kernel, or a drop reason); ECMP.
#include "dataplane/pipeline/route_stage.h"

#include "tests/unit/dataplane/pipeline/forwarding_fixture.h"

namespace vigil::dp {
namespace {

// The IP packet inside a frame (what an ICMP error quotes).
std::vector<uint8_t> ip_part(const std::vector<uint8_t>& frame, size_t l2 = 14) {
  return {frame.begin() + static_cast<long>(l2), frame.end()};
}

struct Case {
  const char* description;
  PortId in_port;
  std::vector<uint8_t> input;
  std::optional<PortId> out_port;  // transmitted there...
  std::vector<uint8_t> output;     // ...as exactly these bytes
  bool to_kernel = false;
  std::optional<DropReason> dropped;
};

std::vector<Case> cases() {
  const auto lan_udp = [](uint8_t ttl) {
    return PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").ttl(ttl).udp(1000, 2000).payload(20);
  };
  const auto ttl_one = lan_udp(1).build();
  const auto v6_hop_one =
      PacketBuilder().eth().ipv6("fd00:1::5", "fd00:99::1").ttl(1).udp(1000, 53).payload(8).build();
  const auto v6_unroutable =
      PacketBuilder().eth().ipv6("fd00:1::5", "2001:db8:ffff::1").tcp(4000, 80).build();
  const auto big_df =
      PacketBuilder().eth().ipv4("10.1.0.5", "10.60.1.1", 0x4000).udp(1, 2).payload(1422).build();
  auto bad_ihl = PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").udp(1, 2).build();
  bad_ihl[14] = 0x43;
  std::vector<uint8_t> arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  return {
      {"IPv4 transit: TTL 64 → 63 with its checksum, MACs of the next hop and the port", kLan,
       lan_udp(64).build(), kWan1,
       PacketBuilder()
           .eth(kGw1Mac, kPortMac[kWan1])
           .ipv4("10.1.0.5", "10.50.1.1")
           .ttl(63)
           .udp(1000, 2000)
           .payload(20)
           .build()},
      {"a priority tag (VLAN 0) it came with is not sent on", kLan,
       PacketBuilder()
           .eth()
           .vlan(0)
           .ipv4("10.1.0.5", "10.50.1.1")
           .udp(1000, 2000)
           .payload(20)
           .build(),
       kWan1,
       PacketBuilder()
           .eth(kGw1Mac, kPortMac[kWan1])
           .ipv4("10.1.0.5", "10.50.1.1")
           .ttl(63)
           .udp(1000, 2000)
           .payload(20)
           .build()},
      {"connected route: the destination itself is the neighbour", kWan1,
       PacketBuilder().eth().ipv4("192.0.2.1", "10.1.0.5").tcp(443, 5555).build(), kLan,
       PacketBuilder()
           .eth(kHostMac, kPortMac[kLan])
           .ipv4("192.0.2.1", "10.1.0.5")
           .ttl(63)
           .tcp(443, 5555)
           .build()},
      {"IPv6 transit: hop limit decremented", kLan,
       PacketBuilder().eth().ipv6("fd00:1::5", "fd00:99::1").udp(1000, 53).payload(8).build(),
       kWan1,
       PacketBuilder()
           .eth(kGw1Mac, kPortMac[kWan1])
           .ipv6("fd00:1::5", "fd00:99::1")
           .ttl(63)
           .udp(1000, 53)
           .payload(8)
           .build()},
      {"TTL 1: ICMP time exceeded from the ingress port's address, quoting the packet", kLan,
       ttl_one, kLan,
       PacketBuilder()
           .eth(kHostMac, kPortMac[kLan])
           .ipv4("10.1.0.1", "10.1.0.5")
           .tos(0xc0)
           .icmp(11, 0)
           .raw(ip_part(ttl_one))
           .build(),
       false, DropReason::kTtlExceeded},
      {"IPv6 hop limit 1: ICMPv6 time exceeded", kLan, v6_hop_one, kLan,
       PacketBuilder()
           .eth(kHostMac, kPortMac[kLan])
           .ipv6("fd00:1::1", "fd00:1::5")
           .icmp(3, 0)
           .raw(ip_part(v6_hop_one))
           .build(),
       false, DropReason::kTtlExceeded},
      {"no route: ICMPv6 destination unreachable", kLan, v6_unroutable, kLan,
       PacketBuilder()
           .eth(kHostMac, kPortMac[kLan])
           .ipv6("fd00:1::1", "fd00:1::5")
           .icmp(1, 0)
           .raw(ip_part(v6_unroutable))
           .build(),
       false, DropReason::kNoRoute},
      {"over the egress MTU with DF: fragmentation needed, the MTU, 548 bytes quoted", kLan, big_df,
       kLan,
       PacketBuilder()
           .eth(kHostMac, kPortMac[kLan])
           .ipv4("10.1.0.1", "10.1.0.5")
           .tos(0xc0)
           .icmp(3, 4, 1400)
           .raw({big_df.begin() + 14, big_df.begin() + 14 + 548})
           .build(),
       false, DropReason::kTooBig},
      {"over the egress MTU without DF: dropped (no fragmentation on the fast path)",
       kLan,
       PacketBuilder().eth().ipv4("10.1.0.5", "10.60.1.1").udp(1, 2).payload(1422).build(),
       std::nullopt,
       {},
       false,
       DropReason::kTooBig},
      {"blackhole: dropped silently",
       kLan,
       PacketBuilder().eth().ipv4("10.1.0.5", "203.0.113.9").udp(1, 2).build(),
       std::nullopt,
       {},
       false,
       DropReason::kBlackhole},
      {"for the box: to the kernel untouched",
       kLan,
       PacketBuilder().eth().ipv4("10.1.0.5", "10.1.0.1").tcp(5000, 22).build(),
       std::nullopt,
       {},
       true},
      {"ARP: to the kernel", kLan, arp, std::nullopt, {}, true},
      {"malformed: dropped and counted",
       kLan,
       bad_ihl,
       std::nullopt,
       {},
       false,
       DropReason::kMalformed},
      {"no ICMP error about an ICMP error",
       kLan,
       PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").ttl(1).icmp(3, 1).payload(28).build(),
       std::nullopt,
       {},
       false,
       DropReason::kTtlExceeded},
  };
}

TEST_P(ForwardingTest, Table) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.description);
    sink_.sent.clear();
    sink_.kernel.clear();
    const LcoreCounters before = counters_;
    run(c.in_port, {c.input});
    if (c.out_port) {
      ASSERT_EQ(sink_.sent.size(), 1u);
      EXPECT_EQ(sink_.sent[0].first, *c.out_port);
      EXPECT_EQ(sink_.sent[0].second, c.output);
    } else {
      EXPECT_TRUE(sink_.sent.empty());
    }
    EXPECT_EQ(sink_.kernel.size(), c.to_kernel ? 1u : 0u);
    for (size_t r = 0; r < static_cast<size_t>(DropReason::kCount); ++r) {
      const uint64_t expected = c.dropped && static_cast<size_t>(*c.dropped) == r ? 1 : 0;
      EXPECT_EQ(counters_.drops[r] - before.drops[r], expected) << kDropReasonNames[r];
    }
  }
}

TEST_P(ForwardingTest, EcmpSpreadsFlowsAndKeepsEachOnOnePath) {
  std::vector<std::vector<uint8_t>> flows;
  for (uint16_t port = 1; port <= 32; ++port) {
    flows.push_back(PacketBuilder().eth().ipv4("10.1.0.5", "8.8.8.8").udp(port, 53).build());
  }
  run(kLan, flows);
  run(kLan, flows);
  ASSERT_EQ(sink_.sent.size(), 64u);
  size_t on_wan1 = 0;
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(sink_.sent[i].first, sink_.sent[32 + i].first) << "flow " << i << " moved";
    on_wan1 += sink_.sent[i].first == kWan1 ? 1 : 0;
  }
  EXPECT_GT(on_wan1, 4u);
  EXPECT_LT(on_wan1, 28u);
}

INSTANTIATE_TEST_SUITE_P(Lookups, ForwardingTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "GatewaysByAdjacency" : "AllByAddress";
                         });

}  // namespace
}  // namespace vigil::dp

// The route stage through the forwarding pipeline, table-driven like the BPF tests: a frame
// in, what must come out (port and exact bytes, the kernel, or a drop reason); ECMP.
#include "dataplane/pipeline/route_stage.h"

#include <rte_ip.h>

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

uint16_t be16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

// Each fragment as Linux would send it: the next hop's MACs, a valid header checksum, data in
// multiples of 8 up to the MTU, MF on all but the last; together the datagram's data.
void expect_fragments(const std::vector<std::pair<PortId, std::vector<uint8_t>>>& sent,
                      const std::vector<uint8_t>& datagram_frame,
                      const std::vector<size_t>& header_lengths, size_t mtu) {
  ASSERT_EQ(sent.size(), header_lengths.size());
  const size_t header = (datagram_frame[14] & 0x0f) * size_t{4};
  const std::vector<uint8_t> data(datagram_frame.begin() + 14 + static_cast<long>(header),
                                  datagram_frame.end());
  std::vector<uint8_t> joined;
  for (size_t k = 0; k < sent.size(); ++k) {
    SCOPED_TRACE("fragment " + std::to_string(k));
    const auto& [port, frame] = sent[k];
    EXPECT_EQ(port, kWan2);
    const auto l2 = PacketBuilder().eth(kGw2Mac, kPortMac[kWan2]).build();
    EXPECT_TRUE(std::equal(l2.begin(), l2.begin() + 12, frame.begin())) << "MACs";
    EXPECT_EQ(be16(frame, 12), 0x0800);
    ASSERT_GE(frame.size(), 34u);
    const std::vector<uint8_t> ip(frame.begin() + 14, frame.end());
    const size_t hl = (ip.at(0) & 0x0f) * size_t{4};
    EXPECT_EQ(hl, header_lengths[k]);
    EXPECT_EQ(be16(ip, 2), ip.size());
    EXPECT_LE(ip.size(), mtu);
    EXPECT_EQ(ip[8], 63) << "TTL decremented once, in every fragment";
    EXPECT_EQ(rte_raw_cksum(ip.data(), hl), 0xffff) << "header checksum";
    const bool last = k + 1 == sent.size();
    EXPECT_EQ((be16(ip, 6) & 0x2000) != 0, !last) << "MF";
    EXPECT_EQ((be16(ip, 6) & 0x1fff) * size_t{8}, joined.size()) << "offset";
    if (!last) {
      EXPECT_EQ((ip.size() - hl) % 8, 0u);
    }
    joined.insert(joined.end(), ip.begin() + static_cast<long>(hl), ip.end());
  }
  EXPECT_EQ(joined, data);
}

TEST_P(ForwardingTest, OverTheEgressMtuWithoutDfLeavesInFragments) {
  // 10.60/16 leaves by wan2, MTU 1400: 1,450 bytes of IP become 1,396 (20 + 1,376) and 74.
  const auto datagram =
      PacketBuilder().eth().ipv4("10.1.0.5", "10.60.1.1").udp(1, 2).payload(1422).build();
  run(kLan, {datagram});
  expect_fragments(sink_.sent, datagram, {20, 20}, 1400);
  EXPECT_EQ(counters_.ipv4_fragmented, 1u);
  EXPECT_EQ(counters_.ipv4_fragments_created, 2u);
  EXPECT_EQ(counters_.drops[static_cast<size_t>(DropReason::kTooBig)], 0u);

  // Options: router alert (copied into every fragment) and record route (first only, with
  // this router's wan2 address in it), padded to 4 bytes as the header needs.
  auto with_options =
      PacketBuilder().eth().ipv4("10.1.0.5", "10.60.1.1", 0, 12).udp(1, 2).payload(1900).build();
  const uint8_t options[12] = {0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0};
  std::memcpy(&with_options[34], options, sizeof(options));
  with_options[24] = with_options[25] = 0;
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(&with_options[14], 32));
  std::memcpy(&with_options[24], &sum, 2);
  sink_.sent.clear();
  run(kLan, {with_options});
  ASSERT_FALSE(sink_.sent.empty());
  const auto& first = sink_.sent[0].second;
  EXPECT_EQ(std::vector<uint8_t>(first.begin() + 38, first.begin() + 46),
            (std::vector<uint8_t>{7, 7, 8, 198, 51, 100, 2, 0}))
      << "record route filled, in the first fragment";
  for (size_t k = 1; k < sink_.sent.size(); ++k) {
    const auto& f = sink_.sent[k].second;
    EXPECT_EQ(std::vector<uint8_t>(f.begin() + 34, f.begin() + 38),
              (std::vector<uint8_t>{0x94, 4, 0, 0}))
        << "router alert copied into fragment " << k;
  }
  std::vector<uint8_t> filled = with_options;  // what was fragmented: TTL 63, RR filled
  filled[22] = 63;
  const uint8_t wan2_address[4] = {198, 51, 100, 2};
  std::memcpy(&filled[40], wan2_address, 4);
  filled[40 - 2] = 8;  // RR's pointer, past the one slot
  expect_fragments(sink_.sent, filled, {32, 24}, 1400);
  EXPECT_EQ(counters_.ipv4_fragmented, 2u);
  EXPECT_EQ(counters_.ipv4_fragments_created, 4u);

  // DF set: not fragmented, the sender is told the MTU (the table above); IPv6 likewise.
  sink_.sent.clear();
  run(kLan,
      {PacketBuilder().eth().ipv6("fd00:1::5", "fd00:99::1").udp(1, 2).payload(1500).build()});
  EXPECT_EQ(counters_.ipv4_fragmented, 2u);
}

TEST_P(ForwardingTest, AnErrorDueOnAPortWithoutAnAddressOfItsFamilyIsCountedAsSuch) {
  // wan1 has no IPv6 address: hop limit 1 from there has no source to answer from.
  run(kWan1, {PacketBuilder().eth().ipv6("2001:db8:7::5", "fd00:1::5").ttl(1).udp(1, 2).build()});
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(drops(DropReason::kTtlExceeded), 1u);
  EXPECT_EQ(counters_.icmp_errors_no_source_address, 1u);
  EXPECT_EQ(counters_.icmp_errors_not_allowed, 0u);
  EXPECT_EQ(counters_.icmp_errors_sent, 0u);
}

// What the box's kernel sends on the mesh's device goes into the tunnel as the kernel made it
// (no hop: TTL and hop limit unchanged, even at 1), and nowhere else: not out of a port in the
// clear, not back to the kernel.
TEST_P(ForwardingTest, TheKernelsPacketsFromTheMeshDeviceGoOnlyIntoTheTunnelUnchanged) {
  const rte_ether_addr device = mac(kPortMac[kMeshKernel]);
  auto addressed = [&](std::vector<uint8_t> f) {
    std::memcpy(f.data(), device.addr_bytes, 6);
    return f;
  };
  const auto v4 =
      PacketBuilder().eth().ipv4("10.1.0.1", "10.70.1.1").ttl(1).tcp(8443, 40000).build();
  const auto v6 =
      PacketBuilder().eth().ipv6("fd00:1::1", "fd00:70::5").ttl(1).tcp(8443, 40000).build();
  run(kMeshKernel, {v4, v6});
  ASSERT_EQ(tunnel_->taken.size(), 2u);
  EXPECT_EQ(tunnel_->taken[0], addressed(v4));
  EXPECT_EQ(tunnel_->taken[1], addressed(v6));
  EXPECT_EQ(drops(DropReason::kTtlExceeded), 0u);

  run(kMeshKernel,
      {PacketBuilder().eth().ipv4("10.1.0.1", "10.50.1.1").udp(1, 2).build(),    // a WAN route
       PacketBuilder().eth().ipv4("10.1.0.1", "8.8.8.8").udp(1, 2).build(),      // the default
       PacketBuilder().eth().ipv4("10.1.0.1", "10.1.0.1").udp(1, 2).build(),     // the box
       PacketBuilder().eth().ipv4("10.1.0.1", "10.1.0.5").udp(1, 2).build(),     // connected
       PacketBuilder().eth().ipv4("10.1.0.1", "203.0.113.1").udp(1, 2).build(),  // blackhole
       PacketBuilder().eth().ipv6("fd00:1::1", "fd00:99::1").udp(1, 2).build()});
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_TRUE(sink_.kernel.empty());
  EXPECT_EQ(tunnel_->taken.size(), 2u);
  EXPECT_EQ(drops(DropReason::kKernelPathNotMesh), 6u);

  // The same packet from the LAN is a hop like any other.
  run(kLan, {PacketBuilder().eth().ipv4("10.1.0.5", "10.70.1.1").ttl(9).udp(1, 2).build()});
  ASSERT_EQ(tunnel_->taken.size(), 3u);
  EXPECT_EQ(tunnel_->taken[2][22], 8) << "TTL decremented";
}

// What another site sends the box through the mesh is held to filter's rules for the box
// (the classifier never sees it); other traffic to the box, and transit, are not the route
// stage's to judge.
TEST_P(ForwardingTest, TheMeshsTrafficToTheBoxIsHeldToTheLocalPolicy) {
  auto policy = std::make_shared<LocalPolicy>();
  policy->drop_by_default = true;
  policy->tcp_ports.set(22);
  ASSERT_TRUE(routes_->apply(table_, port_infos_, policy));
  const rte_ether_addr wan = mac(kPortMac[kWan1]);
  auto addressed = [&](std::vector<uint8_t> f) {
    std::memcpy(f.data(), wan.addr_bytes, 6);
    return f;
  };
  const auto ssh = PacketBuilder().eth().ipv4("10.70.1.5", "10.1.0.1").tcp(40000, 22).build();
  const auto web = PacketBuilder().eth().ipv4("10.70.1.5", "10.1.0.1").tcp(40000, 8443).build();
  const auto ping = PacketBuilder().eth().ipv4("10.70.1.5", "10.1.0.1").icmp(8, 0).build();
  run_as_sent(kWan1, {addressed(ssh), addressed(web), addressed(ping)}, /*from_tunnel=*/true);
  EXPECT_EQ(sink_.kernel.size(), 2u);
  EXPECT_EQ(drops(DropReason::kTunnelLocalDenied), 1u);
  // Not from a tunnel: the classifier judged it already (or the kernel's TAP in dpdk mode).
  run(kLan, {PacketBuilder().eth().ipv4("10.1.0.5", "10.1.0.1").tcp(40000, 8443).build()});
  EXPECT_EQ(sink_.kernel.size(), 3u);
  // From a tunnel, through the box: the other site's own business.
  run_as_sent(kWan1,
              {addressed(PacketBuilder().eth().ipv4("10.70.1.5", "10.1.0.5").tcp(1, 8443).build())},
              /*from_tunnel=*/true);
  EXPECT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(drops(DropReason::kTunnelLocalDenied), 1u);
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

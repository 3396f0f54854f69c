// The forwarding pipeline (parse → route → neighbour) over real mbufs, rte_fib and rte_hash,
// table-driven like the BPF tests: a frame in, what must come out (port and exact bytes, the
// kernel, or a drop reason). Every test runs twice: with gateways' MACs read from their
// adjacencies (as vigil-dp runs) and with every next hop looked up by address.
#include <gtest/gtest.h>

#include <optional>

#include "dataplane/forwarding/neighbour_table.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/pipeline/neighbour_stage.h"
#include "dataplane/pipeline/parse_stage.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/route_stage.h"
#include "tests/packet/packet_builder.h"
#include "tests/support/net_literals.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {
namespace {

using test::bytes_of;
using test::make_mbuf;
using test::PacketBuilder;

constexpr PortId kLan = 0, kWan1 = 1, kWan2 = 2;
const char* const kPortMac[] = {"02:00:00:00:00:a0", "02:00:00:00:00:a1", "02:00:00:00:00:a2"};
const char* const kHostMac = "02:00:00:00:01:05";
const char* const kGw1Mac = "02:00:00:00:02:01";
const char* const kGw2Mac = "02:00:00:00:03:01";

using vigil::test::ip;
using vigil::test::net;

rte_ether_addr mac(const char* text) {
  rte_ether_addr m;
  EXPECT_EQ(rte_ether_unformat_addr(text, &m), 0);
  return m;
}
NextHopGroup via(PortId port, const char* gw) {
  return make_forward_group({{.port = port, .gateway = ip(gw)}});
}
NextHopGroup connected(PortId port) {
  return make_forward_group({{.port = port}});
}

class NoReaders : public Synchronizer {
 public:
  void wait_for_readers() override {}
};

class CaptureSink : public PacketSink {
 public:
  void transmit(PortId port, rte_mbuf* m) override {
    sent.push_back({port, bytes_of(m)});
    rte_pktmbuf_free(m);
  }
  void to_kernel(PortId, rte_mbuf* m) override {
    kernel.push_back(bytes_of(m));
    rte_pktmbuf_free(m);
  }
  std::vector<std::pair<PortId, std::vector<uint8_t>>> sent;
  std::vector<std::vector<uint8_t>> kernel;
};

class ForwardingTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    static int n = 0;
    const std::string name = "fw" + std::to_string(n++);
    auto nt = NeighbourTable::create(name, 1024, readers_);
    ASSERT_TRUE(nt) << nt.error();
    neighbours_ = std::move(*nt);
    auto t = RouteTable::create(name,
                                {.fib = {.max_routes4 = 1024,
                                         .max_routes6 = 1024,
                                         .tbl8_groups4 = 256,
                                         .tbl8_groups6 = 256}},
                                readers_, GetParam() ? neighbours_.get() : nullptr);
    ASSERT_TRUE(t) << t.error();
    routes_ = std::move(*t);

    std::vector<PortInfo> ports(3);
    for (PortId p = 0; p < 3; ++p) {
      ports[p].mac = mac(kPortMac[p]);
    }
    ports[kWan2].mtu = 1400;
    set_v4(ports[kLan], "10.1.0.1");
    set_v4(ports[kWan1], "192.0.2.2");
    set_v4(ports[kWan2], "198.51.100.2");
    ports[kLan].has_v6 = true;
    std::memcpy(ports[kLan].v6, ip("fd00:1::1").bytes.data(), 16);
    ASSERT_TRUE(routes_->apply(
        {{net("10.1.0.0/24"), connected(kLan)},
         {net("10.1.0.1/32"), make_group(RouteAction::kLocal)},
         {net("192.0.2.0/24"), connected(kWan1)},
         {net("198.51.100.0/24"), connected(kWan2)},
         {net("0.0.0.0/0"), make_forward_group({{.port = kWan1, .gateway = ip("192.0.2.1")},
                                                {.port = kWan2, .gateway = ip("198.51.100.1")}})},
         {net("10.50.0.0/16"), via(kWan1, "192.0.2.1")},
         {net("10.60.0.0/16"), via(kWan2, "198.51.100.1")},
         {net("203.0.113.0/24"), make_group(RouteAction::kBlackhole)},
         {net("fd00:1::/64"), connected(kLan)},
         {net("fd00:1::1/128"), make_group(RouteAction::kLocal)},
         {net("fd00:99::/32"), via(kWan1, "2001:db8:1::1")}},
        ports));
    set_neighbour(kLan, "10.1.0.5", kHostMac);
    set_neighbour(kLan, "fd00:1::5", kHostMac);
    set_neighbour(kWan1, "192.0.2.1", kGw1Mac);
    set_neighbour(kWan1, "2001:db8:1::1", kGw1Mac);
    set_neighbour(kWan2, "198.51.100.1", kGw2Mac);

    pipeline_ = std::make_unique<Pipeline>(sink_, counters_);
    pipeline_->add(std::make_unique<ParseStage>());
    pipeline_->add(
        std::make_unique<RouteStage>(*routes_, counters_, 7, IcmpRateLimit{}, rte_get_tsc_hz()));
    auto neighbour_stage = std::make_unique<NeighbourStage>(
        *routes_, *neighbours_, sink_, counters_, HoldLimits{.hold_ms = 50, .recheck_us = 0},
        rte_get_tsc_hz());
    neighbour_stage_ = neighbour_stage.get();
    pipeline_->add(std::move(neighbour_stage));
  }

  static void set_v4(PortInfo& p, const char* a) {
    p.has_v4 = true;
    std::memcpy(p.v4, ip(a).bytes.data(), 4);
  }
  void set_neighbour(PortId port, const char* address, const char* m) {
    ASSERT_TRUE(neighbours_->set(NeighbourKey::from(port, ip(address)), mac(m)));
  }

  // Runs frames received on `in_port` through the pipeline as one burst.
  void run(PortId in_port, const std::vector<std::vector<uint8_t>>& frames) {
    Burst burst;
    burst.reset(in_port, static_cast<uint16_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i) {
      burst.packets[i] = make_mbuf(frames[i]);
      ASSERT_NE(burst.packets[i], nullptr);
    }
    pipeline_->run(burst);
  }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<size_t>(r)]; }

  NoReaders readers_;
  std::unique_ptr<NeighbourTable> neighbours_;  // declared first: it outlives the routes
  std::unique_ptr<RouteTable> routes_;
  CaptureSink sink_;
  LcoreCounters counters_;
  std::unique_ptr<Pipeline> pipeline_;
  NeighbourStage* neighbour_stage_ = nullptr;
};

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
      {"the VLAN tag it came with is not sent on", kLan,
       PacketBuilder()
           .eth()
           .vlan(10)
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

TEST_P(ForwardingTest, UnresolvedNeighbourHoldsPacketsAsksOnceAndSendsThemWhenAnswered) {
  const auto frame = PacketBuilder().eth().ipv4("192.0.2.1", "10.1.0.77").udp(1, 2).build();
  run(kWan1, {frame, frame, frame});
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(neighbour_stage_->held(), 3u);
  const auto asked = neighbours_->take_requests(16);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], NeighbourKey::from(kLan, ip("10.1.0.77")));
  set_neighbour(kLan, "10.1.0.77", "02:00:00:00:01:77");
  neighbour_stage_->poll(rte_rdtsc());
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent[0].second, PacketBuilder()
                                      .eth("02:00:00:00:01:77", kPortMac[kLan])
                                      .ipv4("192.0.2.1", "10.1.0.77")
                                      .ttl(63)
                                      .udp(1, 2)
                                      .build());
  EXPECT_EQ(neighbour_stage_->held(), 0u);
}

TEST_P(ForwardingTest, UnansweredNeighbourDropsHeldPacketsAfterTheHoldTime) {
  run(kWan1, {PacketBuilder().eth().ipv4("192.0.2.1", "10.1.0.78").udp(1, 2).build()});
  neighbour_stage_->poll(rte_rdtsc());
  EXPECT_EQ(neighbour_stage_->held(), 1u) << "dropped before its time";
  neighbour_stage_->poll(rte_rdtsc() + rte_get_tsc_hz());  // a second later
  EXPECT_EQ(neighbour_stage_->held(), 0u);
  EXPECT_EQ(drops(DropReason::kNoNeighbour), 1u);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_P(ForwardingTest, GatewaysGetAnAdjacencyEachWhenTheTableHasAProvider) {
  // 192.0.2.1 (two groups), 198.51.100.1 (two groups) and 2001:db8:1::1; none for connected.
  EXPECT_EQ(neighbours_->adjacencies().in_use(), GetParam() ? 3u : 0u);
}

TEST_P(ForwardingTest, ANewGatewayMacOrItsLossAppliesFromTheNextPacket) {
  const auto frame = PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").udp(1, 2).build();
  const auto sent_to = [](const char* gw_mac) {
    return PacketBuilder()
        .eth(gw_mac, kPortMac[kWan1])
        .ipv4("10.1.0.5", "10.50.1.1")
        .ttl(63)
        .udp(1, 2)
        .build();
  };
  run(kLan, {frame});
  set_neighbour(kWan1, "192.0.2.1", "02:00:00:00:02:99");
  run(kLan, {frame});
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(sink_.sent[0].second, sent_to(kGw1Mac));
  EXPECT_EQ(sink_.sent[1].second, sent_to("02:00:00:00:02:99"));

  neighbours_->remove(NeighbourKey::from(kWan1, ip("192.0.2.1")));
  run(kLan, {frame});
  EXPECT_EQ(sink_.sent.size(), 2u) << "sent to a forgotten MAC";
  EXPECT_EQ(neighbour_stage_->held(), 1u);
  const auto asked = neighbours_->take_requests(16);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], NeighbourKey::from(kWan1, ip("192.0.2.1")));
  set_neighbour(kWan1, "192.0.2.1", kGw1Mac);
  neighbour_stage_->poll(rte_rdtsc());
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent[2].second, sent_to(kGw1Mac));
}

INSTANTIATE_TEST_SUITE_P(Lookups, ForwardingTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "GatewaysByAdjacency" : "AllByAddress";
                         });

}  // namespace
}  // namespace vigil::dp

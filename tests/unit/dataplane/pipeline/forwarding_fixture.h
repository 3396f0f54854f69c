// The forwarding pipeline (parse → admit → route → neighbour) over real mbufs, rte_fib and
// rte_hash, as the route and neighbour stage tests drive it: three ports, a routing table with
// connected, local, ECMP, blackhole and IPv6 routes, and a sink that captures what leaves. Every
// test runs twice: with gateways' MACs read from their adjacencies (as vigil-dp runs) and with
// every next hop looked up by address.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>

#include "dataplane/forwarding/neighbour_table.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/pipeline/admit_stage.h"
#include "dataplane/pipeline/neighbour_stage.h"
#include "dataplane/pipeline/parse_stage.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/route_stage.h"
#include "tests/packet/packet_builder.h"
#include "tests/support/net_literals.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {

using vigil::test::bytes_of;
using vigil::test::make_mbuf;
using vigil::test::PacketBuilder;

constexpr PortId kLan = 0, kWan1 = 1, kWan2 = 2, kMeshKernel = 3;
const char* const kPortMac[] = {"02:00:00:00:00:a0", "02:00:00:00:00:a1", "02:00:00:00:00:a2",
                                "02:00:00:00:00:a3"};
const char* const kHostMac = "02:00:00:00:01:05";
const char* const kGw1Mac = "02:00:00:00:02:01";
const char* const kGw2Mac = "02:00:00:00:03:01";
constexpr uint32_t kAllowReservedOnWan2 = 1u << 2;  // VIGIL_ALLOW_RESERVED

using vigil::test::ip;
using vigil::test::net;

inline rte_ether_addr mac(const char* text) {
  rte_ether_addr m{};
  EXPECT_EQ(rte_ether_unformat_addr(text, &m), 0);
  return m;
}
inline NextHopGroup via(PortId port, const char* gw) {
  return make_forward_group({{.port = port, .gateway = ip(gw)}});
}
inline NextHopGroup connected(PortId port) {
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
  void to_kernel(PortId, bool, rte_mbuf* m) override {
    kernel.push_back(bytes_of(m));
    rte_pktmbuf_free(m);
  }
  std::vector<std::pair<PortId, std::vector<uint8_t>>> sent;
  std::vector<std::vector<uint8_t>> kernel;
};

// Stands where the mesh's stage does (after the route stage): takes what is routed into the
// tunnel, as it is then.
class TunnelCapture : public Stage {
 public:
  const char* name() const override { return "tunnel capture"; }
  void process(Burst& burst) override {
    for (uint16_t i = 0; i < burst.count; ++i) {
      if (burst.in_flight(i) && burst.state[i].out_port == kTunnelPort) {
        taken.push_back(bytes_of(burst.packets[i]));
        rte_pktmbuf_free(burst.packets[i]);
        burst.state[i].disposition = Disposition::kTaken;
      }
    }
  }
  std::vector<std::vector<uint8_t>> taken;
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

    std::vector<PortInfo> ports(kTunnelPort + 1u);
    for (PortId p = 0; p < 4; ++p) {
      ports[p].mac = mac(kPortMac[p]);
    }
    ports[kTunnelPort].mtu = 1420;
    ports[kMeshKernel].from_kernel = true;  // the mesh's kernel device
    ports[kWan2].mtu = 1400;
    ports[kLan].vlans = {20, 30};                        // sub-interfaces: the kernel's
    ports[kWan2].allow_martians = kAllowReservedOnWan2;  // 240/4 in use beyond wan2
    set_v4(ports[kLan], "10.1.0.1");
    set_v4(ports[kWan1], "192.0.2.2");
    set_v4(ports[kWan2], "198.51.100.2");
    ports[kLan].has_v6 = true;
    std::memcpy(ports[kLan].v6, ip("fd00:1::1").bytes.data(), 16);
    table_ = {
        {net("10.1.0.0/24"), connected(kLan)},
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
        {net("fd00:99::/32"), via(kWan1, "2001:db8:1::1")},
        {net("10.70.0.0/16"), make_forward_group({{.port = kTunnelPort}})},  // another site
        {net("fd00:70::/48"), make_forward_group({{.port = kTunnelPort}})}};
    port_infos_ = ports;
    ASSERT_TRUE(routes_->apply(table_, port_infos_));
    set_neighbour(kLan, "10.1.0.5", kHostMac);
    set_neighbour(kLan, "fd00:1::5", kHostMac);
    set_neighbour(kWan1, "192.0.2.1", kGw1Mac);
    set_neighbour(kWan1, "2001:db8:1::1", kGw1Mac);
    set_neighbour(kWan2, "198.51.100.1", kGw2Mac);

    pipeline_ = std::make_unique<Pipeline>(sink_, counters_);
    // No ICMP rate limit unless a test sets one: tests count every error.
    IcmpLimits unlimited;
    for (size_t k = 0; k < kIcmpKinds; ++k) {
      unlimited.per_source[k] = unlimited.total[k] = {};
    }
    icmp_ = std::make_shared<IcmpResponder>(counters_, 7, icmp_limits_.value_or(unlimited),
                                            rte_get_tsc_hz());
    pipeline_->add(std::make_unique<ParseStage>());
    pipeline_->add(std::make_unique<AdmitStage>(*routes_, icmp_));
    pipeline_->add(std::make_unique<RouteStage>(*routes_, icmp_, 7));
    auto tunnel = std::make_unique<TunnelCapture>();
    tunnel_ = tunnel.get();
    pipeline_->add(std::move(tunnel));
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

  // Runs frames received on `in_port` through the pipeline as one burst, each addressed to
  // the port's MAC as a switch would deliver it to a router.
  void run(PortId in_port, std::vector<std::vector<uint8_t>> frames) {
    const rte_ether_addr port_mac = mac(kPortMac[in_port]);
    for (auto& f : frames) {
      if (f.size() >= 6) {
        std::memcpy(f.data(), port_mac.addr_bytes, 6);
      }
    }
    run_as_sent(in_port, frames);
  }
  // The same with the frames' own destination MACs.
  // `from_tunnel`: as a tunnel's receive stage leaves what it decrypted.
  void run_as_sent(PortId in_port, const std::vector<std::vector<uint8_t>>& frames,
                   bool from_tunnel = false) {
    Burst burst;
    burst.reset(in_port, static_cast<uint16_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i) {
      burst.packets[i] = make_mbuf(frames[i]);
      ASSERT_NE(burst.packets[i], nullptr);
      burst.state[i].tunnel = from_tunnel;
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
  std::shared_ptr<IcmpResponder> icmp_;
  std::optional<IcmpLimits> icmp_limits_;  // set before SetUp() for rate-limited tests
  NeighbourStage* neighbour_stage_ = nullptr;
  TunnelCapture* tunnel_ = nullptr;
  std::vector<Route> table_;  // the routes SetUp applied, and the ports
  std::vector<PortInfo> port_infos_;
};

}  // namespace vigil::dp

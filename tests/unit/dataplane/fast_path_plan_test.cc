// The fast path's plan: the one adapter from the config, and the checks that run before
// DPDK does (no EAL, no root).
#include "dataplane/fast_path_plan.h"

#include <gtest/gtest.h>

#include "config/document.h"
#include "dataplane/pipeline/lcore_counters.h"
#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;

config::Config parse(const std::string& text) {
  auto r = config::parse_text(text, "vigil.yaml");
  EXPECT_TRUE(r.ok()) << r.errors.to_string();
  return r.config;
}

constexpr const char* kForwarding = R"(interfaces:
  lan0:
    role: lan
    xdp: true
    addresses: [10.1.0.1/24]
    neighbours: [{address: 10.1.0.9, mac: "02:00:00:00:00:09"}]
  dmz0: {role: lan, enabled: false, addresses: [10.9.0.1/24]}
  wan1: {role: wan, xdp: true, device: veth-w1, addresses: [192.0.2.2/24]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 192.0.2.1}]}
    - {prefix: 10.70.0.0/16, next_hops: [{via: 10.9.0.7, interface: dmz0}]}
dataplane: {forwarding: true, rx_mode: adaptive, lcores: [1], tx_hold_us: 50}
)";

TEST(FastPathPlan, EnabledInterfacesArePortsInConfigOrder) {
  const FastPathPlan plan = plan_from(parse(kForwarding));
  EXPECT_TRUE(plan.forwarding);
  ASSERT_EQ(plan.ports.size(), 2u);
  EXPECT_EQ(plan.ports[0].name, "lan0");
  EXPECT_EQ(plan.ports[0].device, "lan0") << "the device defaults to the name";
  EXPECT_EQ(plan.ports[1].device, "veth-w1");
  EXPECT_EQ(plan.port_map, (PortMap{{"lan0", 0}, {"wan1", 1}}));
  EXPECT_EQ(plan.devices(), (std::vector<std::pair<std::string, std::string>>{
                                {"lan0", "lan0"}, {"wan1", "veth-w1"}}));
  ASSERT_EQ(plan.ports[0].neighbours.size(), 1u);
  EXPECT_EQ(plan.ports[0].neighbours[0].address, ip("10.1.0.9"));
  EXPECT_EQ(plan.ports[0].neighbours[0].mac, (std::array<uint8_t, 6>{2, 0, 0, 0, 0, 9}));
  EXPECT_TRUE(plan.settings.adaptive_rx);
  EXPECT_EQ(plan.settings.tx_hold_us, 50u);
  EXPECT_EQ(plan.settings.mode, PortMode::kAfXdp);
}

TEST(FastPathPlan, RoutingInputNamesNextHopsByPort) {
  const FastPathPlan plan = plan_from(parse(kForwarding));
  ASSERT_EQ(plan.routing.ports.size(), 2u);
  EXPECT_EQ(plan.routing.ports[1].port, 1);
  ASSERT_EQ(plan.routing.static_routes.size(), 2u);
  const StaticNextHop& by_gateway = plan.routing.static_routes[0].next_hops.at(0);
  EXPECT_FALSE(by_gateway.interface_named);
  EXPECT_EQ(by_gateway.via, ip("192.0.2.1"));
  const StaticNextHop& over_disabled = plan.routing.static_routes[1].next_hops.at(0);
  EXPECT_TRUE(over_disabled.interface_named);
  EXPECT_FALSE(over_disabled.port.has_value()) << "dmz0 is not a forwarding port";
}

TEST(FastPathPlan, ACheckedPlanPassesAndEachProblemIsNamed) {
  EXPECT_TRUE(check_plan(plan_from(parse(kForwarding)), 2).ok());
  const std::string base(kForwarding);
  struct Bad {
    std::string from, to;
    unsigned cpus;
    std::string error;
  };
  const Bad cases[] = {
      {"wan1: {role: wan, xdp: true,", "wan1: {role: wan,", 2,
       "interfaces.wan1: forwarding over AF_XDP needs the classifier on every port (xdp: true), "
       "it decides what reaches the fast path"},
      {"wan1: {role: wan, xdp: true,", "wan1: {role: wan, xdp: true, mtu: 1800,", 2,
       "interfaces.wan1.mtu: AF_XDP ports carry frames of up to 1,792 bytes, an MTU of at most "
       "1770"},
      {"lcores: [1]", "lcores: [3]", 2, "dataplane.lcores: this host has CPUs 0-1, not 3"},
      {"next_hops: [{via: 192.0.2.1}]", "next_hops: [{via: 203.0.113.1}]", 2,
       "static route 0.0.0.0/0: next hop 203.0.113.1 is on no connected subnet of a forwarding "
       "port; name its interface (recursive next hops arrive with BGP)"},
  };
  for (const Bad& b : cases) {
    std::string text = base;
    text.replace(text.find(b.from), b.from.size(), b.to);
    auto st = check_plan(plan_from(parse(text)), b.cpus);
    ASSERT_FALSE(st.ok()) << b.to;
    EXPECT_EQ(st.error(), b.error);
  }
}

// The box's own traffic to other sites leaves from an address they accept: a lan address in
// the site's mesh networks, never a WAN or link-local one.
TEST(FastPathPlan, TheMeshSourceIsALanAddressInTheSitesNetworks) {
  const std::string interfaces = R"(interfaces:
  wan1: {role: wan, addresses: [192.0.2.2/24, "2001:db8::2/64"]}
  mgmt0: {role: lan, enabled: false, addresses: [10.9.0.1/24]}
  lan0: {role: lan, addresses: ["fe80::1/64", 10.1.1.1/24, "fd00:1:1::1/64"]}
  lan1: {role: lan, addresses: [10.5.0.1/24, "fd00:5::1/64"]}
)";
  const MeshSources lans = mesh_sources_of(parse(interfaces));
  EXPECT_EQ(lans.v4, ip("10.1.1.1"));
  EXPECT_EQ(lans.v6, ip("fd00:1:1::1"));
  const MeshSources networks =
      mesh_sources_of(parse(interfaces + "mesh:\n  networks: [10.5.0.0/16, \"fd00:5::/32\"]\n"));
  EXPECT_EQ(networks.v4, ip("10.5.0.1"));
  EXPECT_EQ(networks.v6, ip("fd00:5::1"));
  const MeshSources none =
      mesh_sources_of(parse(interfaces + "mesh:\n  networks: [10.77.0.0/16]\n"));
  EXPECT_FALSE(none.v4);
  EXPECT_FALSE(none.v6);
}

TEST(FastPathPlan, APeersNetworksAreRoutedToTheTunnelAndNeverShadowed) {
  const std::string mesh = std::string(kForwarding) +
                           "mesh:\n  peers:\n    b:\n      public_key: "
                           "\"KgWYky3MH3oUY+IBO7LfL8ObVypjHG6Dte0jrq4giTU=\"\n"
                           "      allowed_ips: [10.2.0.0/16, \"fd00:2::/32\"]\n";
  const FastPathPlan plan = plan_from(parse(mesh));
  EXPECT_EQ(plan.mesh_peers, 1u);
  EXPECT_EQ(plan.mesh_mtu, 1420);
  auto routes = check_plan(plan, 2);
  ASSERT_TRUE(routes.ok()) << routes.error();
  size_t to_tunnel = 0;
  for (const Route& r : *routes) {
    if (!r.target.members.empty() && r.target.members[0].port == kTunnelPort) {
      ++to_tunnel;
      EXPECT_TRUE(r.prefix.to_string() == "10.2.0.0/16" || r.prefix.to_string() == "fd00:2::/32");
    }
  }
  EXPECT_EQ(to_tunnel, 2u);

  // A peer's network that is also a static route would leave in the clear: refused.
  std::string shadowed = mesh;
  const std::string ours = "allowed_ips: [10.2.0.0/16";
  shadowed.replace(shadowed.find(ours), ours.size(), "allowed_ips: [0.0.0.0/0");
  auto st = check_plan(plan_from(parse(shadowed)), 2);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(),
            "mesh.peers.b.allowed_ips: 0.0.0.0/0 is also a route of the config or a port's "
            "subnet, and traffic for it would not go through the tunnel: remove one of them");

  // Tunnels run on every forwarding lcore, each peer's on one of them.
  std::string two = mesh;
  two.replace(two.find("lcores: [1]"), 11, "lcores: [0, 1]");
  two.replace(two.find("dataplane: {forwarding: true,"), 29,
              "dataplane: {forwarding: true, control_lcore: 2,");
  st = check_plan(plan_from(parse(two)), 4);
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST(FastPathPlan, DpdkPortNamesAreTapNames) {
  std::string text = kForwarding;
  text.replace(text.find("forwarding: true"), 16, "forwarding: true, mode: dpdk");
  text.replace(text.find("  wan1:"), 7, "  wan-uplink-number1:");
  auto st = check_plan(plan_from(parse(text)), 2);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(),
            "interfaces.wan-uplink-number1: in dpdk mode the name is also the kernel interface "
            "(TAP) of the port's exception path, at most 15 characters");
}

TEST(FastPathPlan, NotForwardingIsNeverRefused) {
  std::string text = kForwarding;
  text.replace(text.find("forwarding: true"), 16, "forwarding: false");
  text.replace(text.find("lcores: [1]"), 11, "lcores: [7]");
  EXPECT_TRUE(check_plan(plan_from(parse(text)), 2).ok());
}

// A box that runs only the classifier used to have the kernel's forwarding turned on too.
TEST(FastPathPlan, OnlyAForwardingAfXdpFastPathCopiesItsFibToTheKernel) {
  std::string text = kForwarding;
  EXPECT_TRUE(plan_from(parse(text)).mirrors_to_kernel());
  std::string off = text;
  off.replace(off.find("forwarding: true"), 16, "forwarding: false");
  EXPECT_FALSE(plan_from(parse(off)).mirrors_to_kernel());
  std::string no_fallback = text;
  no_fallback.replace(no_fallback.find("forwarding: true"), 16,
                      "forwarding: true, kernel_fallback: false");
  EXPECT_FALSE(plan_from(parse(no_fallback)).mirrors_to_kernel());
}

}  // namespace
}  // namespace vigil::dp

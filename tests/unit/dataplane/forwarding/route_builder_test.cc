#include "dataplane/forwarding/route_builder.h"

#include <gtest/gtest.h>

#include "config/document.h"
#include "dataplane/fast_path_plan.h"

namespace vigil::dp {
namespace {

config::Config parse(const char* text) {
  auto r = config::parse_text(text, "vigil.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errors.to_string();
  return r.config;
}

// Routes of a config's routing input over `ports`, as the fast path's plan builds it.
Expected<std::vector<Route>> routes_of(const config::Config& c, const PortMap& ports,
                                       const DownPorts& down = {}) {
  return build_routes(routing_input_from(c, ports), down);
}

const Route* find(const std::vector<Route>& routes, const char* prefix) {
  const auto p = *net::Prefix::parse_network(prefix);
  for (const auto& r : routes) {
    if (r.prefix == p) {
      return &r;
    }
  }
  return nullptr;
}

constexpr const char* kInterfaces = R"(interfaces:
  lan0: {role: lan, addresses: [10.1.0.1/24, "fd00:1::1/64"]}
  wan1: {role: wan, addresses: [192.0.2.2/24]}
  wan2: {role: wan, addresses: [198.51.100.2/24]}
)";

TEST(RouteBuilder, ConnectedAndLocalRoutesForEveryPortAddress) {
  const auto routes = routes_of(parse(kInterfaces), {{"lan0", 0}, {"wan1", 1}, {"wan2", 2}});
  ASSERT_TRUE(routes) << routes.error();
  ASSERT_NE(find(*routes, "10.1.0.0/24"), nullptr);
  EXPECT_EQ(find(*routes, "10.1.0.0/24")->target.action, RouteAction::kForward);
  EXPECT_FALSE(find(*routes, "10.1.0.0/24")->target.members.at(0).gateway.has_value());
  EXPECT_EQ(find(*routes, "10.1.0.1/32")->target.action, RouteAction::kLocal);
  EXPECT_EQ(find(*routes, "fd00:1::1/128")->target.action, RouteAction::kLocal);
  EXPECT_EQ(find(*routes, "198.51.100.0/24")->target.members.at(0).port, 2);
  EXPECT_EQ(routes->size(), 8u);
}

TEST(RouteBuilder, StaticRoutesResolveGatewaysToPortsAndTheLowestDistanceWins) {
  const std::string doc = std::string(kInterfaces) + R"(routing:
  static:
    - prefix: 0.0.0.0/0
      next_hops: [{via: 192.0.2.1}, {via: 198.51.100.1, weight: 3}]
    - {prefix: 10.50.0.0/16, next_hops: [{via: 192.0.2.1}], distance: 10}
    - {prefix: 10.50.0.0/16, next_hops: [{via: 198.51.100.1}], distance: 5}
    - {prefix: 203.0.113.0/24, blackhole: true}
    - {prefix: 10.1.0.0/24, next_hops: [{via: 192.0.2.1}]}
)";
  const auto routes = routes_of(parse(doc.c_str()), {{"lan0", 0}, {"wan1", 1}, {"wan2", 2}});
  ASSERT_TRUE(routes) << routes.error();
  const auto& def = find(*routes, "0.0.0.0/0")->target;
  ASSERT_EQ(def.members.size(), 2u);
  EXPECT_EQ(def.members[0].port, 1);
  EXPECT_EQ(def.members[1].port, 2);
  EXPECT_EQ(def.buckets.size(), 4u);
  EXPECT_EQ(find(*routes, "10.50.0.0/16")->target.members.at(0).port, 2);
  EXPECT_EQ(find(*routes, "203.0.113.0/24")->target.action, RouteAction::kBlackhole);
  // The connected route beats the static one to the same prefix.
  EXPECT_FALSE(find(*routes, "10.1.0.0/24")->target.members.at(0).gateway.has_value());
}

TEST(RouteBuilder, RoutesOverPortsThatDoNotForwardAreLeftOut) {
  const std::string doc = std::string(kInterfaces) + R"(routing:
  static:
    - {prefix: 10.60.0.0/16, next_hops: [{via: 198.51.100.1, interface: wan2}]}
    - {prefix: 0.0.0.0/0, next_hops: [{via: 192.0.2.1}, {via: 198.51.100.1, interface: wan2}]}
)";
  const auto routes = routes_of(parse(doc.c_str()), {{"lan0", 0}, {"wan1", 1}});
  ASSERT_TRUE(routes) << routes.error();
  EXPECT_EQ(find(*routes, "198.51.100.0/24"), nullptr);
  EXPECT_EQ(find(*routes, "10.60.0.0/16"), nullptr);
  EXPECT_EQ(find(*routes, "0.0.0.0/0")->target.members.size(), 1u);
}

TEST(RouteBuilder, ALinkDownWithdrawsItsRoutesAndTheBackupDistanceTakesOver) {
  const std::string doc = std::string(kInterfaces) + R"(routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 192.0.2.1}], distance: 1}
    - {prefix: 0.0.0.0/0, next_hops: [{via: 198.51.100.1}], distance: 10}
    - {prefix: 10.80.0.0/16, next_hops: [{via: 192.0.2.1}, {via: 198.51.100.1}]}
)";
  const config::Config c = parse(doc.c_str());
  const PortMap ports{{"lan0", 0}, {"wan1", 1}, {"wan2", 2}};
  const auto up = routes_of(c, ports);
  ASSERT_TRUE(up) << up.error();
  EXPECT_EQ(find(*up, "0.0.0.0/0")->target.members.at(0).port, 1);

  const auto wan1_down = routes_of(c, ports, {1});
  ASSERT_TRUE(wan1_down) << wan1_down.error();
  EXPECT_EQ(find(*wan1_down, "192.0.2.0/24"), nullptr);
  EXPECT_EQ(find(*wan1_down, "192.0.2.2/32")->target.action, RouteAction::kLocal);
  ASSERT_EQ(find(*wan1_down, "0.0.0.0/0")->target.members.size(), 1u);
  EXPECT_EQ(find(*wan1_down, "0.0.0.0/0")->target.members[0].port, 2);
  ASSERT_EQ(find(*wan1_down, "10.80.0.0/16")->target.members.size(), 1u);
  EXPECT_EQ(find(*wan1_down, "10.80.0.0/16")->target.members[0].port, 2);

  const auto both_down = routes_of(c, ports, {1, 2});
  ASSERT_TRUE(both_down) << both_down.error();
  EXPECT_EQ(find(*both_down, "0.0.0.0/0"), nullptr);
  EXPECT_EQ(find(*both_down, "10.80.0.0/16"), nullptr);
  EXPECT_NE(find(*both_down, "10.1.0.0/24"), nullptr);
}

TEST(RouteBuilder, AGatewayOnNoConnectedSubnetIsRefusedWithTheRoute) {
  const std::string doc = std::string(kInterfaces) +
                          "routing:\n  static:\n    - {prefix: 10.70.0.0/16, next_hops: [{via: "
                          "172.16.0.1}]}\n";
  const auto routes = routes_of(parse(doc.c_str()), {{"lan0", 0}, {"wan1", 1}, {"wan2", 2}});
  ASSERT_FALSE(routes);
  EXPECT_EQ(routes.error(),
            "static route 10.70.0.0/16: next hop 172.16.0.1 is on no connected subnet of a "
            "forwarding port; name its interface (recursive next hops arrive with BGP)");
}

}  // namespace
}  // namespace vigil::dp

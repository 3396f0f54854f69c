// zebra's routes in the fast path's terms: next hops by interface to ports, those over other
// interfaces or down ports left out, discards as discards.
#include "dataplane/forwarding/fpm_routes.h"

#include <gtest/gtest.h>

#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

const std::map<int, PortId> kPorts = {{7, 0}, {9, 1}};

fpm::ResolvedRoute unicast(std::vector<fpm::FpmNextHop> hops) {
  return {.prefix = net("10.1.0.0/16"), .next_hops = std::move(hops)};
}

TEST(FpmRoutesTest, NextHopsByInterfaceWithTheirWeights) {
  const auto target =
      fpm_route_target(unicast({{.gateway = ip("198.18.1.1"), .ifindex = 7, .weight = 3},
                                {.gateway = ip("169.254.0.1"), .ifindex = 9, .onlink = true},
                                {.ifindex = 9}}),
                       kPorts, {});
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, make_forward_group({{.port = 0, .gateway = ip("198.18.1.1"), .weight = 3},
                                         {.port = 1, .gateway = ip("169.254.0.1")},
                                         {.port = 1}}));
}

TEST(FpmRoutesTest, OtherInterfacesAndDownPortsAreLeftOut) {
  const auto route = unicast({{.gateway = ip("198.18.1.1"), .ifindex = 7},
                              {.gateway = ip("198.18.2.1"), .ifindex = 3}});  // management
  const auto up = fpm_route_target(route, kPorts, {});
  ASSERT_TRUE(up);
  EXPECT_EQ(up->members.size(), 1u);
  EXPECT_FALSE(fpm_route_target(route, kPorts, {0})) << "its one usable next hop is down";
}

TEST(FpmRoutesTest, DiscardsAreDiscards) {
  fpm::ResolvedRoute r{.prefix = net("10.1.0.0/16"), .kind = fpm::RouteKind::kBlackhole};
  EXPECT_EQ(fpm_route_target(r, kPorts, {})->action, RouteAction::kBlackhole);
  r.kind = fpm::RouteKind::kUnreachable;
  EXPECT_EQ(fpm_route_target(r, kPorts, {})->action, RouteAction::kNoRoute);
  r.kind = fpm::RouteKind::kProhibit;
  EXPECT_EQ(fpm_route_target(r, kPorts, {})->action, RouteAction::kNoRoute);
}

}  // namespace
}  // namespace vigil::dp

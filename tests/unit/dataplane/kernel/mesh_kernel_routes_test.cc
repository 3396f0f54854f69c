#include "dataplane/kernel/mesh_kernel_routes.h"

#include <gtest/gtest.h>

#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

constexpr PortId kTunnel = 31;

TEST(MeshKernelRoutesTest, EachRouteIntoTheTunnelGoesOverTheDeviceFromTheBoxsAddress) {
  const std::vector<Route> routes = {
      {.prefix = net("10.2.0.0/16"), .target = make_forward_group({{.port = kTunnel}})},
      {.prefix = net("fd00:2::/48"), .target = make_forward_group({{.port = kTunnel}})},
      {.prefix = net("0.0.0.0/0"),
       .target = make_forward_group({{.port = 1, .gateway = ip("192.0.2.1")}})},
      {.prefix = net("10.1.0.0/24"), .target = make_forward_group({{.port = 0}})},
      {.prefix = net("10.1.0.1/32"), .target = make_group(RouteAction::kLocal)},
      {.prefix = net("203.0.113.0/24"), .target = make_group(RouteAction::kBlackhole)},
  };
  const auto got =
      mesh_kernel_routes(routes, kTunnel, 42, {.v4 = ip("10.1.0.1"), .v6 = ip("fd00:1::1")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (KernelRoute{.prefix = net("10.2.0.0/16"),
                                 .next_hops = {{.ifindex = 42}},
                                 .preferred_source = ip("10.1.0.1")}));
  EXPECT_EQ(got[1], (KernelRoute{.prefix = net("fd00:2::/48"),
                                 .next_hops = {{.ifindex = 42}},
                                 .preferred_source = ip("fd00:1::1")}));
}

// Without a LAN address of the family the kernel would send from a WAN address, which the
// other site's allowed IPs refuse: no route, the traffic keeps the kernel's own way.
TEST(MeshKernelRoutesTest, AFamilyWithoutASourceGetsNoRoute) {
  const std::vector<Route> routes = {
      {.prefix = net("10.2.0.0/16"), .target = make_forward_group({{.port = kTunnel}})},
      {.prefix = net("fd00:2::/48"), .target = make_forward_group({{.port = kTunnel}})},
  };
  const auto got = mesh_kernel_routes(routes, kTunnel, 42, {.v4 = ip("10.1.0.1")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].prefix, net("10.2.0.0/16"));
  EXPECT_TRUE(mesh_kernel_routes(routes, kTunnel, 42, {}).empty());
}

}  // namespace
}  // namespace vigil::dp

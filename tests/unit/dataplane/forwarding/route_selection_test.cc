// The choice between the config's routes and BGP's: the lower distance wins, a tie goes to
// the config, and a source's withdrawal gives the prefix back to the other.
#include "dataplane/forwarding/route_selection.h"

#include <gtest/gtest.h>

#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

NextHopGroup via(PortId port, const char* gw) {
  return make_forward_group({{.port = port, .gateway = ip(gw)}});
}

Route configured(const char* prefix, RouteSource source, uint32_t distance, NextHopGroup target) {
  return {
      .prefix = net(prefix), .target = std::move(target), .source = source, .distance = distance};
}

TEST(RouteSelectionTest, TheLowerDistanceWinsATieGoesToTheConfig) {
  RouteSelection s;
  (void)s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1"));
  (void)s.set_bgp(net("10.2.0.0/16"), via(1, "198.18.1.1"));
  (void)s.set_bgp(net("10.3.0.0/16"), via(1, "198.18.1.1"));
  (void)s.set_bgp(net("10.4.0.0/16"), via(1, "198.18.1.1"));
  const auto fib = s.set_config({
      configured("10.1.0.0/16", RouteSource::kConnected, 0, make_forward_group({{.port = 2}})),
      configured("10.2.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1")),
      configured("10.3.0.0/16", RouteSource::kStatic, 200, via(2, "192.0.2.1")),  // floating
      configured("10.4.0.0/16", RouteSource::kStatic, 20, via(2, "192.0.2.1")),   // a tie
      configured("10.5.0.0/16", RouteSource::kMesh, kMeshDistance,
                 make_forward_group({{.port = 9}})),
  });
  ASSERT_EQ(fib.size(), 5u);
  EXPECT_EQ(fib[0].source, RouteSource::kConnected);
  EXPECT_EQ(fib[1].source, RouteSource::kStatic);
  EXPECT_EQ(fib[2].source, RouteSource::kBgp);
  EXPECT_EQ(fib[2].target, via(1, "198.18.1.1"));
  EXPECT_EQ(fib[3].source, RouteSource::kStatic);
  EXPECT_EQ(fib[4].source, RouteSource::kMesh);
  EXPECT_EQ(s.bgp_routes(), 4u);
  EXPECT_EQ(s.bgp_selected(), 1u);
  EXPECT_EQ(s.selected_source(net("10.3.0.0/16")), RouteSource::kBgp);
  EXPECT_EQ(s.selected_source(net("10.9.0.0/16")), std::nullopt);
}

TEST(RouteSelectionTest, ABgpChangeIsTheFibsChangeOnlyWhenItIsSelected) {
  RouteSelection s;
  (void)s.set_config({configured("10.2.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1")),
                      configured("10.3.0.0/16", RouteSource::kStatic, 200, via(2, "192.0.2.1"))});
  // A new prefix: into the FIB.
  auto u = s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, via(1, "198.18.1.1"));
  // The same again: nothing to do.
  EXPECT_FALSE(s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1")));
  // Under a better static route: held, not the FIB's.
  EXPECT_FALSE(s.set_bgp(net("10.2.0.0/16"), via(1, "198.18.1.1")));
  EXPECT_FALSE(s.set_bgp(net("10.2.0.0/16"), std::nullopt));
  // Over a floating static route: the FIB's; withdrawn, the static route comes back.
  u = s.set_bgp(net("10.3.0.0/16"), via(1, "198.18.1.1"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, via(1, "198.18.1.1"));
  u = s.set_bgp(net("10.3.0.0/16"), std::nullopt);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, via(2, "192.0.2.1"));
  // Withdrawn with nothing under it: gone from the FIB. Never held: nothing.
  u = s.set_bgp(net("10.1.0.0/16"), std::nullopt);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->target);
  EXPECT_FALSE(s.set_bgp(net("10.7.0.0/16"), std::nullopt));
  EXPECT_EQ(s.bgp_routes(), 0u);
  EXPECT_EQ(s.bgp_selected(), 0u);
}

TEST(RouteSelectionTest, ClearingBgpGivesEveryPrefixBack) {
  RouteSelection s;
  (void)s.set_config({configured("10.3.0.0/16", RouteSource::kStatic, 200, via(2, "192.0.2.1"))});
  (void)s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1"));
  (void)s.set_bgp(net("10.3.0.0/16"), via(1, "198.18.1.1"));
  const auto updates = s.clear_bgp();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_FALSE(updates[0].target);
  EXPECT_EQ(updates[1].target, via(2, "192.0.2.1"));
  EXPECT_EQ(s.selected_source(net("10.3.0.0/16")), RouteSource::kStatic);
  // A new config keeps what BGP has.
  (void)s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1"));
  const auto fib = s.set_config({});
  ASSERT_EQ(fib.size(), 1u);
  EXPECT_EQ(fib[0].source, RouteSource::kBgp);
}

// The FIB's room goes to the config first; BGP's routes past it are held, not selected, and
// taken again when a new config finds room. Over a config route of its prefix BGP takes none.
TEST(RouteSelectionTest, BgpNeverTakesTheConfigsRoom) {
  RouteSelection s;
  s.set_capacity(3, 8);
  (void)s.set_config({configured("10.9.0.0/16", RouteSource::kStatic, 200, via(2, "192.0.2.1")),
                      configured("10.8.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1"))});
  EXPECT_TRUE(s.set_bgp(net("10.1.0.0/16"), via(1, "198.18.1.1")));
  EXPECT_FALSE(s.set_bgp(net("10.2.0.0/16"), via(1, "198.18.1.1"))) << "the FIB is full";
  EXPECT_TRUE(s.set_bgp(net("10.9.0.0/16"), via(1, "198.18.1.1"))) << "takes no more room";
  EXPECT_EQ(s.bgp_over_capacity(), 1u);
  EXPECT_EQ(s.bgp_selected(), 2u);
  // A commit with fewer routes of its own: room for the held one.
  auto fib = s.set_config({});
  EXPECT_EQ(fib.size(), 3u);
  EXPECT_EQ(s.bgp_over_capacity(), 0u);
  EXPECT_EQ(s.bgp_selected(), 3u);
  // More config routes than room left: BGP's give way, the config's all stay.
  std::vector<Route> three = {
      configured("10.5.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1")),
      configured("10.6.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1")),
      configured("10.7.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1"))};
  fib = s.set_config(three);
  EXPECT_EQ(fib.size(), 3u);
  for (const Route& r : fib) {
    EXPECT_EQ(r.source, RouteSource::kStatic);
  }
  EXPECT_EQ(s.bgp_over_capacity(), 3u);
  // Withdrawn while not selected: nothing to change, and no longer counted.
  EXPECT_FALSE(s.set_bgp(net("10.1.0.0/16"), std::nullopt));
  EXPECT_EQ(s.bgp_over_capacity(), 2u);
}

// Another site's network is the mesh's: a more specific route from upstream must not take its
// traffic out unencrypted.
TEST(RouteSelectionTest, BgpRoutesInsideAMeshPrefixAreNotSelected) {
  RouteSelection s;
  // Whatever route the config has for the mesh prefix itself (here a static one, which keeps
  // add_mesh_routes from making a mesh route), what is inside it stays out of BGP's reach.
  s.set_mesh({net("10.2.0.0/16"), net("fd00:2::/48")});
  (void)s.set_config({configured("10.2.0.0/16", RouteSource::kStatic, 1, via(2, "192.0.2.1"))});
  EXPECT_FALSE(s.set_bgp(net("fd00:2:0:7::/64"), via(1, "fe80::1")));
  EXPECT_FALSE(s.set_bgp(net("10.2.5.0/24"), via(1, "198.18.1.1")));
  EXPECT_FALSE(s.set_bgp(net("10.2.0.0/16"), via(1, "198.18.1.1")));
  EXPECT_TRUE(s.set_bgp(net("10.0.0.0/8"), via(1, "198.18.1.1"))) << "a covering route is fine";
  EXPECT_TRUE(s.set_bgp(net("10.3.0.0/24"), via(1, "198.18.1.1")));
  EXPECT_EQ(s.bgp_inside_mesh(), 2u);
  EXPECT_EQ(s.selected_source(net("10.2.5.0/24")), std::nullopt);
  EXPECT_EQ(s.selected_source(net("10.2.0.0/16")), RouteSource::kStatic);
  // The mesh gone from the config: the held routes are selected.
  s.set_mesh({});
  const auto fib = s.set_config({});
  EXPECT_EQ(fib.size(), 5u);
  EXPECT_EQ(s.bgp_inside_mesh(), 0u);
}

}  // namespace
}  // namespace vigil::dp

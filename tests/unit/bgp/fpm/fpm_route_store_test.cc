#include "bgp/fpm/fpm_route_store.h"

#include <gtest/gtest.h>

#include "tests/unit/bgp/fpm/netlink_builder.h"

namespace vigil::fpm {
namespace {

using test::ip;

net::Prefix prefix(const char* text) {
  return *net::Prefix::parse_network(text);
}

RouteMessage via_object(const char* p, uint32_t id) {
  return {.prefix = prefix(p), .protocol = kProtocolBgp, .nexthop_id = id};
}
NexthopMessage single(uint32_t id, const char* gateway, uint32_t ifindex) {
  return {.id = id, .gateway = ip(gateway), .ifindex = ifindex};
}

class FpmRouteStoreTest : public ::testing::Test {
 protected:
  void apply(const FpmMessage& m) {
    Status ok = store_.apply(m);
    ASSERT_TRUE(ok) << ok.error();
  }
  std::vector<FpmNextHop> hops_of(const char* p) const {
    for (const auto& r : store_.resolved()) {
      if (r.prefix == prefix(p)) {
        return r.next_hops;
      }
    }
    return {};
  }
  bool has(const char* p) const {
    for (const auto& r : store_.resolved()) {
      if (r.prefix == prefix(p)) {
        return true;
      }
    }
    return false;
  }
  FpmRouteStore store_{{.max_routes = 4, .max_nexthops = 4, .max_group_members = 3}};
};

// A route names its next hop's object; a change of the object reaches the route.
TEST_F(FpmRouteStoreTest, ARouteFollowsItsNextHopObject) {
  apply(via_object("10.9.0.0/24", 10));
  EXPECT_FALSE(has("10.9.0.0/24")) << "its next hop is not known yet";
  apply(single(10, "198.18.1.1", 3));
  EXPECT_EQ(hops_of("10.9.0.0/24"),
            (std::vector<FpmNextHop>{{.gateway = ip("198.18.1.1"), .ifindex = 3}}));
  apply(single(10, "198.18.1.5", 4));
  EXPECT_EQ(hops_of("10.9.0.0/24")[0].gateway, ip("198.18.1.5"));
  apply(NexthopMessage{.add = false, .id = 10});
  EXPECT_FALSE(has("10.9.0.0/24"));
  EXPECT_EQ(store_.routes(), 1u) << "kept, waiting for its next hop";
}

TEST_F(FpmRouteStoreTest, AGroupsMembersWithTheirWeights) {
  apply(single(1, "198.18.1.1", 3));
  apply(single(2, "198.18.1.5", 4));
  apply(NexthopMessage{.id = 3, .group = {{1, 1}, {2, 3}, {9, 1}}});  // 9 is not known
  apply(via_object("10.8.0.0/16", 3));
  EXPECT_EQ(hops_of("10.8.0.0/16"),
            (std::vector<FpmNextHop>{{.gateway = ip("198.18.1.1"), .ifindex = 3, .weight = 1},
                                     {.gateway = ip("198.18.1.5"), .ifindex = 4, .weight = 3}}));
}

TEST_F(FpmRouteStoreTest, DiscardsAndInlineNextHops) {
  apply(NexthopMessage{.id = 7, .blackhole = true});
  apply(via_object("10.7.0.0/16", 7));
  apply(RouteMessage{.prefix = prefix("10.6.0.0/16"), .kind = RouteKind::kUnreachable});
  apply(RouteMessage{.prefix = prefix("10.5.0.0/16"),
                     .next_hops = {{.gateway = ip("198.18.1.1"), .ifindex = 3}}});
  const auto all = store_.resolved();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].prefix, prefix("10.5.0.0/16"));
  EXPECT_EQ(all[0].next_hops.size(), 1u);
  EXPECT_EQ(all[1].kind, RouteKind::kUnreachable);
  EXPECT_EQ(all[2].kind, RouteKind::kBlackhole);
}

TEST_F(FpmRouteStoreTest, AnUpdateReplacesAndADeleteRemoves) {
  apply(single(1, "198.18.1.1", 3));
  apply(single(2, "198.18.1.5", 4));
  apply(via_object("10.9.0.0/24", 1));
  apply(RouteMessage{.add = false, .prefix = prefix("10.9.0.0/24")});
  apply(via_object("10.9.0.0/24", 2));
  EXPECT_EQ(hops_of("10.9.0.0/24")[0].ifindex, 4u);
  apply(RouteMessage{.add = false, .prefix = prefix("10.9.0.0/24")});
  EXPECT_EQ(store_.routes(), 0u);
}

TEST_F(FpmRouteStoreTest, OtherTablesAreLeftOutAndCounted) {
  apply(
      RouteMessage{.prefix = prefix("10.9.0.0/24"), .table = 1001, .kind = RouteKind::kBlackhole});
  EXPECT_EQ(store_.routes(), 0u);
  EXPECT_EQ(store_.other_tables(), 1u);
}

TEST_F(FpmRouteStoreTest, LimitsRefuseWithTheReasonAndKeepWhatIsHeld) {
  for (const char* p : {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"}) {
    apply(RouteMessage{.prefix = prefix(p), .kind = RouteKind::kBlackhole});
  }
  Status over = store_.apply(RouteMessage{.prefix = prefix("10.5.0.0/16")});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), "10.5.0.0/16: more than 4 routes from zebra");
  apply(RouteMessage{.prefix = prefix("10.4.0.0/16"), .kind = RouteKind::kProhibit});  // replace
  EXPECT_EQ(store_.routes(), 4u);
  Status big = store_.apply(NexthopMessage{.id = 9, .group = {{1, 1}, {2, 1}, {3, 1}, {4, 1}}});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), "next hop group 9 of 4 members, more than 3");
  for (uint32_t id = 1; id <= 4; ++id) {
    apply(single(id, "198.18.1.1", 3));
  }
  Status many = store_.apply(single(5, "198.18.1.1", 3));
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error(), "next hop 5: more than 4 next hops from zebra");
}

// zebra connects again and sends what it has: what it no longer has is swept.
TEST_F(FpmRouteStoreTest, AResyncSweepsWhatWasNotSentAgain) {
  apply(single(1, "198.18.1.1", 3));
  apply(single(2, "198.18.1.5", 4));
  apply(via_object("10.1.0.0/16", 1));
  apply(via_object("10.2.0.0/16", 2));
  const uint64_t before = store_.generation();
  store_.begin_resync();
  EXPECT_TRUE(store_.resyncing());
  apply(single(1, "198.18.1.1", 3));
  apply(via_object("10.1.0.0/16", 1));
  EXPECT_TRUE(has("10.2.0.0/16")) << "kept until the replay is over";
  EXPECT_EQ(store_.end_resync(), 2u);  // 10.2.0.0/16 and next hop 2
  EXPECT_FALSE(store_.resyncing());
  EXPECT_TRUE(has("10.1.0.0/16"));
  EXPECT_FALSE(has("10.2.0.0/16"));
  EXPECT_EQ(store_.nexthops(), 1u);
  EXPECT_GT(store_.generation(), before);
}

// The fast path takes changes: each prefix once, resolved or gone, a next hop's change
// reaching the routes that use it directly or through a group.
TEST_F(FpmRouteStoreTest, ChangesNameEachPrefixOnceResolvedOrGone) {
  apply(single(1, "198.18.1.1", 3));
  apply(NexthopMessage{.id = 5, .group = {{1, 1}}});
  apply(via_object("10.1.0.0/16", 1));
  apply(via_object("10.2.0.0/16", 5));
  apply(via_object("10.1.0.0/16", 1));  // sent twice: one change
  auto changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].prefix, prefix("10.1.0.0/16"));
  ASSERT_TRUE(changes[0].route);
  EXPECT_EQ(changes[0].route->next_hops[0].gateway, ip("198.18.1.1"));
  EXPECT_TRUE(store_.take_changes().empty());

  apply(single(1, "198.18.1.9", 3));  // both routes resolve through it
  changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].prefix, prefix("10.2.0.0/16"));
  EXPECT_EQ(changes[1].route->next_hops[0].gateway, ip("198.18.1.9"));

  apply(RouteMessage{.add = false, .prefix = prefix("10.1.0.0/16")});
  apply(NexthopMessage{.add = false, .id = 5});
  changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (RouteChange{.prefix = prefix("10.1.0.0/16")}));
  EXPECT_EQ(changes[1], (RouteChange{.prefix = prefix("10.2.0.0/16")}))
      << "held, but its group is gone: not the fast path's";

  store_.begin_resync();
  EXPECT_EQ(store_.end_resync(), 2u);
  changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 1u) << "the swept route";
  EXPECT_FALSE(changes[0].route);
}

// A refused message fails closed on what it names: an add makes the route unreachable or the
// next hop a discard (the old next hops do not stay), a delete deletes.
TEST_F(FpmRouteStoreTest, ARefusalFailsClosed) {
  apply(single(1, "198.18.1.1", 3));
  apply(via_object("10.1.0.0/16", 1));
  apply(RouteMessage{.prefix = prefix("10.2.0.0/16"),
                     .next_hops = {{.gateway = ip("198.18.1.1"), .ifindex = 3}}});
  (void)store_.take_changes();

  store_.refuse({.add = true, .route = true, .prefix = prefix("10.2.0.0/16")});
  auto changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].route);
  EXPECT_EQ(changes[0].route->kind, RouteKind::kUnreachable);

  store_.refuse({.add = true, .route = false, .nexthop_id = 1});
  changes = store_.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].route->kind, RouteKind::kBlackhole) << "10.1.0.0/16 through next hop 1";

  store_.refuse({.add = false, .route = true, .prefix = prefix("10.2.0.0/16")});
  EXPECT_FALSE(has("10.2.0.0/16"));
}

// What zebra sends inline is filtered as next-hop objects are: one that names neither a
// gateway nor an interface is left out; the on-link flag is carried.
TEST_F(FpmRouteStoreTest, InlineNextHopsAreFilteredAndKeepTheirFlags) {
  apply(RouteMessage{
      .prefix = prefix("10.5.0.0/16"),
      .next_hops = {{.weight = 2}, {.gateway = ip("169.254.0.1"), .ifindex = 3, .onlink = true}}});
  apply(RouteMessage{.prefix = prefix("10.6.0.0/16"), .next_hops = {{.weight = 2}}});
  EXPECT_EQ(
      hops_of("10.5.0.0/16"),
      (std::vector<FpmNextHop>{{.gateway = ip("169.254.0.1"), .ifindex = 3, .onlink = true}}));
  EXPECT_FALSE(has("10.6.0.0/16"));
}

// The kernel never mixes a discard with other members: a group holding one (zebra's, or a
// next hop refused) is a discard, and its routes do not fall to a less specific route.
TEST_F(FpmRouteStoreTest, AGroupWithADiscardMemberIsADiscard) {
  apply(single(1, "198.18.1.1", 3));
  apply(NexthopMessage{.id = 5, .group = {{1, 1}, {2, 1}}});
  apply(via_object("10.1.0.0/16", 5));
  EXPECT_EQ(hops_of("10.1.0.0/16").size(), 1u);
  store_.refuse({.add = true, .route = false, .nexthop_id = 2});
  const auto all = store_.resolved();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, RouteKind::kBlackhole);
  EXPECT_TRUE(all[0].next_hops.empty());
}

}  // namespace
}  // namespace vigil::fpm

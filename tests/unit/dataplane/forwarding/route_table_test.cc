#include "dataplane/forwarding/route_table.h"

#include <gtest/gtest.h>

#include "tests/support/net_literals.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;
using vigil::test::net;

// Records grace periods and checks, at each, what an lcore would read.
class RecordingReaders : public Synchronizer {
 public:
  void wait_for_readers() override { ++waits; }
  int waits = 0;
};

RouteTableLimits small_limits() {
  return {.fib = {.max_routes4 = 64, .max_routes6 = 64, .tbl8_groups4 = 64, .tbl8_groups6 = 64},
          .max_groups = 8};
}

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto t = RouteTable::create("rt" + std::to_string(n++), small_limits(), readers_);
    ASSERT_TRUE(t) << t.error();
    table_ = std::move(*t);
  }
  // The group an lcore would use for `dst` right now.
  const NextHopGroup& lookup(const char* dst) {
    const ForwardingSnapshot* snap = table_->snapshot();
    const auto a = ip(dst);
    uint64_t id = 0;
    if (a.family == 4) {
      uint32_t host =
          static_cast<uint32_t>(a.bytes[0]) << 24 | a.bytes[1] << 16 | a.bytes[2] << 8 | a.bytes[3];
      snap->fib->lookup4(&host, &id, 1);
    } else {
      uint8_t v6[1][16];
      std::memcpy(v6[0], a.bytes.data(), 16);
      snap->fib->lookup6(v6, &id, 1);
    }
    return snap->groups.at(id);
  }
  RecordingReaders readers_;
  std::unique_ptr<RouteTable> table_;
  std::vector<PortInfo> ports_ = std::vector<PortInfo>(3);
};

NextHopGroup via(PortId port, const char* gw) {
  return make_forward_group({{.port = port, .gateway = ip(gw)}});
}

TEST_F(RouteTableTest, EmptyTableRoutesNothing) {
  EXPECT_EQ(lookup("10.0.0.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(lookup("2001:db8::1").action, RouteAction::kNoRoute);
}

TEST_F(RouteTableTest, LongestPrefixWinsForBothFamilies) {
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                             {net("10.1.0.0/16"), via(2, "198.51.100.1")},
                             {net("10.1.2.128/25"), make_group(RouteAction::kBlackhole)},
                             {net("10.9.9.9/32"), make_group(RouteAction::kLocal)},
                             {net("2001:db8::/32"), via(1, "fe80::1")},
                             {net("2001:db8:1::/48"), via(2, "fe80::2")}},
                            ports_));
  EXPECT_EQ(lookup("10.200.0.1").members.at(0).port, 1);
  EXPECT_EQ(lookup("10.1.7.7").members.at(0).port, 2);
  EXPECT_EQ(lookup("10.1.2.200").action, RouteAction::kBlackhole);
  EXPECT_EQ(lookup("10.1.2.100").members.at(0).port, 2);
  EXPECT_EQ(lookup("10.9.9.9").action, RouteAction::kLocal);
  EXPECT_EQ(lookup("11.0.0.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(lookup("2001:db8:1::5").members.at(0).port, 2);
  EXPECT_EQ(lookup("2001:db8:2::5").members.at(0).port, 1);
  EXPECT_EQ(lookup("2001:db9::1").action, RouteAction::kNoRoute);
}

TEST_F(RouteTableTest, EveryUpdatePublishesOnceAndWaitsForReadersBeforeTouchingTheOldFib) {
  const Fib* before = table_->snapshot()->fib;
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports_));
  EXPECT_EQ(readers_.waits, 1);
  const Fib* after = table_->snapshot()->fib;
  EXPECT_NE(before, after) << "lcores read the FIB that was just edited, not the one in use";
  // The other FIB caught up: the next update edits it while lcores use `after`, and it must
  // already hold 10/8.
  ASSERT_TRUE(table_->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("172.16.0.0/12"), via(2, "198.51.100.1")}},
      ports_));
  EXPECT_EQ(table_->snapshot()->fib, before);
  EXPECT_EQ(lookup("10.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(lookup("172.16.1.1").members.at(0).port, 2);
}

TEST_F(RouteTableTest, RoutesSharingNextHopsShareOneGroupAndFreedGroupsAreReused) {
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                             {net("11.0.0.0/8"), via(1, "192.0.2.1")},
                             {net("12.0.0.0/8"), via(2, "198.51.100.1")}},
                            ports_));
  EXPECT_EQ(table_->group_count(), 2u);
  EXPECT_EQ(table_->routes().at(net("10.0.0.0/8")), table_->routes().at(net("11.0.0.0/8")));
  // Moving 12/8 to a new gateway frees the old group after the update.
  ASSERT_TRUE(table_->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("12.0.0.0/8"), via(2, "198.51.100.2")}},
      ports_));
  EXPECT_EQ(table_->group_count(), 2u);
  EXPECT_EQ(lookup("11.1.1.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(*lookup("12.1.1.1").members.at(0).gateway, ip("198.51.100.2"));
}

TEST_F(RouteTableTest, RejectedUpdatesChangeNothing) {
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports_));
  const int waits = readers_.waits;
  std::vector<Route> too_many;
  too_many.reserve(65);
  for (int i = 0; i < 65; ++i) {
    too_many.push_back({net(("10." + std::to_string(i) + ".0.0/16").c_str()), via(1, "192.0.2.1")});
  }
  auto status = table_->apply(too_many, ports_);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().find("too many routes: 65 IPv4 (at most 64)"), std::string::npos)
      << status.error();
  status = table_->apply({{net("10.0.0.0/8"), via(7, "192.0.2.1")}}, ports_);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "route 10.0.0.0/8 names port 7 of 3");
  status = table_->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("10.0.0.0/8"), via(2, "192.0.2.1")}}, ports_);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "route 10.0.0.0/8 is given twice");
  EXPECT_EQ(readers_.waits, waits);
  EXPECT_EQ(lookup("10.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(table_->group_count(), 1u);
}

TEST_F(RouteTableTest, PortDetailsArePublishedWithTheRoutes) {
  ports_[2].mtu = 1400;
  ASSERT_TRUE(table_->apply({}, ports_));
  EXPECT_EQ(table_->snapshot()->ports.at(2).mtu, 1400);
}

// A source that changes a few routes at a time: the rest, the ports and the box's addresses
// stay; each call publishes once; what does not change publishes nothing.
TEST_F(RouteTableTest, AnUpdateChangesOnlyThePrefixesNamed) {
  ports_[2].mtu = 1400;
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                             {net("10.9.9.9/32"), make_group(RouteAction::kLocal)}},
                            ports_));
  const int waits = readers_.waits;
  ASSERT_TRUE(table_->update({{net("11.0.0.0/8"), via(2, "198.51.100.1")},
                              {net("2001:db8::/32"), via(2, "fe80::1")},
                              {net("12.0.0.0/8"), via(1, "192.0.2.1")},
                              {net("12.0.0.0/8"), std::nullopt}}));  // the last word wins
  EXPECT_EQ(readers_.waits, waits + 1);
  EXPECT_EQ(lookup("10.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(lookup("11.1.1.1").members.at(0).port, 2);
  EXPECT_EQ(lookup("2001:db8::5").members.at(0).port, 2);
  EXPECT_EQ(lookup("12.1.1.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(table_->snapshot()->ports.at(2).mtu, 1400);
  EXPECT_TRUE(table_->snapshot()->locals.has4(0x0a090909));
  EXPECT_EQ(table_->group_count(), 4u);

  // The same again: nothing to publish, no reference leaked.
  ASSERT_TRUE(table_->update({{net("11.0.0.0/8"), via(2, "198.51.100.1")}}));
  EXPECT_EQ(readers_.waits, waits + 1);
  EXPECT_EQ(table_->group_count(), 4u);

  // Withdrawn, and moved: the groups nothing uses any more are freed, and the other FIB
  // caught up (the next update edits it).
  ASSERT_TRUE(table_->update(
      {{net("11.0.0.0/8"), std::nullopt}, {net("2001:db8::/32"), via(1, "fe80::2")}}));
  ASSERT_TRUE(table_->update({{net("13.0.0.0/8"), via(1, "192.0.2.1")}}));
  EXPECT_EQ(lookup("11.1.1.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(lookup("2001:db8::5").members.at(0).port, 1);
  EXPECT_EQ(lookup("13.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(table_->group_count(), 3u);
  EXPECT_EQ(table_->routes().size(), 4u);

  // A whole apply() after updates starts from what they made.
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports_));
  EXPECT_EQ(lookup("13.1.1.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(table_->group_count(), 1u);
}

TEST_F(RouteTableTest, ARefusedUpdateChangesNothing) {
  ASSERT_TRUE(table_->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports_));
  const int waits = readers_.waits;
  std::vector<RouteUpdate> too_many;
  too_many.reserve(64);
  for (int i = 0; i < 64; ++i) {
    too_many.push_back({net(("11." + std::to_string(i) + ".0.0/16").c_str()), via(1, "192.0.2.1")});
  }
  Status full = table_->update(too_many);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), "too many routes: 65 IPv4 (at most 64) and 0 IPv6 (at most 64)");
  std::vector<RouteUpdate> groups;
  groups.reserve(8);
  for (int i = 0; i < 8; ++i) {
    groups.push_back({net(("11." + std::to_string(i) + ".0.0/16").c_str()),
                      via(1, ("192.0.2." + std::to_string(10 + i)).c_str())});
  }
  Status many_groups = table_->update(groups);
  ASSERT_FALSE(many_groups);
  EXPECT_EQ(many_groups.error(), "too many distinct next-hop groups: 8 new, 1 in use, at most 8");
  Status bad_port = table_->update({{net("11.0.0.0/8"), via(7, "192.0.2.1")}});
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error(), "route 11.0.0.0/8 names port 7 of 3");
  Status host_bits = table_->update({{net("11.0.0.0/8"), std::nullopt},
                                     {*net::Prefix::parse_interface("11.0.0.1/8"), std::nullopt}});
  ASSERT_FALSE(host_bits);
  EXPECT_EQ(readers_.waits, waits);
  EXPECT_EQ(table_->routes().size(), 1u);
  EXPECT_EQ(table_->group_count(), 1u);
}

}  // namespace
}  // namespace vigil::dp

namespace vigil::dp {
namespace {

// Hands out adjacencies and records, for each release, how many grace periods had passed.
class RecordingAdjacencies : public AdjacencyProvider {
 public:
  explicit RecordingAdjacencies(const RecordingReaders& readers) : readers_(readers) {}
  AdjacencyId acquire_adjacency(const NeighbourKey& key) override {
    keys.push_back(key);
    return static_cast<AdjacencyId>(keys.size() - 1);
  }
  void release_adjacency(AdjacencyId id) override { released.push_back({id, readers_.waits}); }
  std::vector<NeighbourKey> keys;                     // by id
  std::vector<std::pair<AdjacencyId, int>> released;  // id, grace periods by then
 private:
  const RecordingReaders& readers_;
};

TEST(RouteTableAdjacencies, GroupsNameTheirGatewaysAdjacenciesUntilRetiredAfterAGracePeriod) {
  RecordingReaders readers;
  RecordingAdjacencies adjacencies(readers);
  auto t = RouteTable::create("rtadj", small_limits(), readers, &adjacencies);
  ASSERT_TRUE(t) << t.error();
  RouteTable& table = **t;
  std::vector<PortInfo> ports(3);
  ports[2].mtu = 1400;
  const NextHopGroup ecmp = make_forward_group(
      {{.port = 1, .gateway = ip("192.0.2.1")}, {.port = 2, .gateway = ip("198.51.100.1")}});
  ASSERT_TRUE(table.apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                           {net("11.0.0.0/8"), via(1, "192.0.2.1")},
                           {net("12.0.0.0/8"), ecmp},
                           {net("192.0.2.0/24"), make_forward_group({{.port = 1}})}},
                          ports));
  // One per gateway per group: 10/8 and 11/8 share a group.
  ASSERT_EQ(adjacencies.keys.size(), 3u);
  const auto group_of = [&](const char* prefix) {
    return table.snapshot()->groups.at(table.routes().at(net(prefix)));
  };
  const NextHopGroup single = group_of("10.0.0.0/8");
  ASSERT_EQ(single.adjacency.size(), 1u);
  EXPECT_EQ(adjacencies.keys.at(single.adjacency[0]), NeighbourKey::from(1, ip("192.0.2.1")));
  const NextHopGroup both = group_of("12.0.0.0/8");
  ASSERT_EQ(both.adjacency.size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(adjacencies.keys.at(both.adjacency[m]),
              NeighbourKey::from(both.members[m].port, *both.members[m].gateway));
  }
  // What the lcores read: one forwarder per bucket, carrying its member's port, MTU,
  // gateway and adjacency.
  const ForwardingSnapshot& snap = *table.snapshot();
  const GroupEntry& entry = snap.entry(table.routes().at(net("12.0.0.0/8")));
  ASSERT_EQ(entry.action, RouteAction::kForward);
  ASSERT_EQ(entry.buckets, both.buckets.size());
  for (size_t b = 0; b < entry.buckets; ++b) {
    const Forwarder& f = snap.forwarders.at(entry.first + b);
    const uint16_t m = both.buckets[b];
    EXPECT_EQ(f.port, both.members[m].port);
    EXPECT_EQ(f.mtu, ports[f.port].mtu);
    EXPECT_EQ(f.adjacency, both.adjacency[m]);
    ASSERT_NE(f.gateway, nullptr);
    EXPECT_EQ(std::memcmp(f.gateway, both.members[m].gateway->bytes.data(), 16), 0);
  }
  EXPECT_EQ(snap.entry(9999).action, RouteAction::kNoRoute) << "an id the table never made";
  EXPECT_EQ(group_of("192.0.2.0/24").adjacency, std::vector<AdjacencyId>{kNoAdjacency})
      << "a connected route has no gateway to name";
  EXPECT_TRUE(adjacencies.released.empty());

  const int waits = readers.waits;
  ASSERT_TRUE(table.apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports));
  ASSERT_EQ(adjacencies.released.size(), 2u) << "the ECMP group's two";
  for (const auto& [id, waits_then] : adjacencies.released) {
    EXPECT_TRUE(id == both.adjacency[0] || id == both.adjacency[1]);
    EXPECT_GT(waits_then, waits) << "released while an lcore could still hold it";
  }
}

}  // namespace
}  // namespace vigil::dp

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
    auto t = RouteTable::create("rt" + std::to_string(n++), small_limits(), readers);
    ASSERT_TRUE(t) << t.error();
    table = std::move(*t);
  }
  // The group an lcore would use for `dst` right now.
  const NextHopGroup& lookup(const char* dst) {
    const ForwardingSnapshot* snap = table->snapshot();
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
  RecordingReaders readers;
  std::unique_ptr<RouteTable> table;
  std::vector<PortInfo> ports = std::vector<PortInfo>(3);
};

NextHopGroup via(PortId port, const char* gw) {
  return make_forward_group({{.port = port, .gateway = ip(gw)}});
}

TEST_F(RouteTableTest, EmptyTableRoutesNothing) {
  EXPECT_EQ(lookup("10.0.0.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(lookup("2001:db8::1").action, RouteAction::kNoRoute);
}

TEST_F(RouteTableTest, LongestPrefixWinsForBothFamilies) {
  ASSERT_TRUE(table->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                            {net("10.1.0.0/16"), via(2, "198.51.100.1")},
                            {net("10.1.2.128/25"), make_group(RouteAction::kBlackhole)},
                            {net("10.9.9.9/32"), make_group(RouteAction::kLocal)},
                            {net("2001:db8::/32"), via(1, "fe80::1")},
                            {net("2001:db8:1::/48"), via(2, "fe80::2")}},
                           ports));
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
  const Fib* before = table->snapshot()->fib;
  ASSERT_TRUE(table->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports));
  EXPECT_EQ(readers.waits, 1);
  const Fib* after = table->snapshot()->fib;
  EXPECT_NE(before, after) << "lcores read the FIB that was just edited, not the one in use";
  // The other FIB caught up: the next update edits it while lcores use `after`, and it must
  // already hold 10/8.
  ASSERT_TRUE(table->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("172.16.0.0/12"), via(2, "198.51.100.1")}},
      ports));
  EXPECT_EQ(table->snapshot()->fib, before);
  EXPECT_EQ(lookup("10.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(lookup("172.16.1.1").members.at(0).port, 2);
}

TEST_F(RouteTableTest, RoutesSharingNextHopsShareOneGroupAndFreedGroupsAreReused) {
  ASSERT_TRUE(table->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")},
                            {net("11.0.0.0/8"), via(1, "192.0.2.1")},
                            {net("12.0.0.0/8"), via(2, "198.51.100.1")}},
                           ports));
  EXPECT_EQ(table->group_count(), 2u);
  EXPECT_EQ(table->routes().at(net("10.0.0.0/8")), table->routes().at(net("11.0.0.0/8")));
  // Moving 12/8 to a new gateway frees the old group after the update.
  ASSERT_TRUE(table->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("12.0.0.0/8"), via(2, "198.51.100.2")}},
      ports));
  EXPECT_EQ(table->group_count(), 2u);
  EXPECT_EQ(lookup("11.1.1.1").action, RouteAction::kNoRoute);
  EXPECT_EQ(*lookup("12.1.1.1").members.at(0).gateway, ip("198.51.100.2"));
}

TEST_F(RouteTableTest, RejectedUpdatesChangeNothing) {
  ASSERT_TRUE(table->apply({{net("10.0.0.0/8"), via(1, "192.0.2.1")}}, ports));
  const int waits = readers.waits;
  std::vector<Route> too_many;
  for (int i = 0; i < 65; ++i) {
    too_many.push_back({net(("10." + std::to_string(i) + ".0.0/16").c_str()), via(1, "192.0.2.1")});
  }
  auto status = table->apply(too_many, ports);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().find("too many routes: 65 IPv4 (at most 64)"), std::string::npos)
      << status.error();
  status = table->apply({{net("10.0.0.0/8"), via(7, "192.0.2.1")}}, ports);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "route 10.0.0.0/8 names port 7 of 3");
  status = table->apply(
      {{net("10.0.0.0/8"), via(1, "192.0.2.1")}, {net("10.0.0.0/8"), via(2, "192.0.2.1")}}, ports);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "route 10.0.0.0/8 is given twice");
  EXPECT_EQ(readers.waits, waits);
  EXPECT_EQ(lookup("10.1.1.1").members.at(0).port, 1);
  EXPECT_EQ(table->group_count(), 1u);
}

TEST_F(RouteTableTest, PortDetailsArePublishedWithTheRoutes) {
  ports[2].mtu = 1400;
  ASSERT_TRUE(table->apply({}, ports));
  EXPECT_EQ(table->snapshot()->ports.at(2).mtu, 1400);
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

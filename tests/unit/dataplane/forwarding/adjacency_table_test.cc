#include "dataplane/forwarding/adjacency_table.h"

#include <gtest/gtest.h>

namespace vigil::dp {
namespace {

NeighbourKey gateway(const char* address, PortId port = 1) {
  return NeighbourKey::from(port, *net::IpAddress::parse(address));
}

constexpr rte_ether_addr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
constexpr rte_ether_addr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};

bool same(const rte_ether_addr& a, const rte_ether_addr& b) {
  return rte_is_same_ether_addr(&a, &b) != 0;
}

TEST(AdjacencyTable, AGatewayHasOneSlotSharedByEveryUserAndFreedWithTheLast) {
  AdjacencyTable table(8);
  const AdjacencyId a = table.acquire(gateway("192.0.2.1"), nullptr);
  EXPECT_EQ(table.acquire(gateway("192.0.2.1"), nullptr), a);
  const AdjacencyId other_port = table.acquire(gateway("192.0.2.1", 2), nullptr);
  const AdjacencyId v6 = table.acquire(gateway("2001:db8::1"), nullptr);
  EXPECT_NE(other_port, a);
  EXPECT_NE(v6, a);
  EXPECT_EQ(table.in_use(), 3u);
  table.release(a);
  EXPECT_EQ(table.in_use(), 3u) << "still used once";
  table.release(a);
  EXPECT_EQ(table.in_use(), 2u);
}

TEST(AdjacencyTable, TheWordFollowsWhatTheNeighbourTableLearnsAndForgets) {
  AdjacencyTable table(8);
  rte_ether_addr mac;
  const AdjacencyId known = table.acquire(gateway("192.0.2.1"), &kMacA);
  ASSERT_TRUE(table.lookup(known, &mac));
  EXPECT_TRUE(same(mac, kMacA));

  const AdjacencyId unknown = table.acquire(gateway("192.0.2.2"), nullptr);
  EXPECT_FALSE(table.lookup(unknown, &mac));
  table.resolve(gateway("192.0.2.2"), kMacB);
  ASSERT_TRUE(table.lookup(unknown, &mac));
  EXPECT_TRUE(same(mac, kMacB));

  table.resolve(gateway("192.0.2.1"), kMacB);  // the gateway's MAC changed
  ASSERT_TRUE(table.lookup(known, &mac));
  EXPECT_TRUE(same(mac, kMacB));
  table.unresolve(gateway("192.0.2.1"));
  EXPECT_FALSE(table.lookup(known, &mac));

  table.resolve(gateway("192.0.2.99"), kMacA);  // no route uses it: nothing to do
  EXPECT_EQ(table.in_use(), 2u);
}

TEST(AdjacencyTable, AFreedSlotIsReusedCleanAndAFullTableSaysSo) {
  AdjacencyTable table(2);
  const AdjacencyId a = table.acquire(gateway("192.0.2.1"), &kMacA);
  table.acquire(gateway("192.0.2.2"), &kMacA);
  EXPECT_EQ(table.acquire(gateway("192.0.2.3"), &kMacA), kNoAdjacency);
  table.release(a);
  const AdjacencyId reused = table.acquire(gateway("192.0.2.3"), nullptr);
  EXPECT_EQ(reused, a);
  rte_ether_addr mac;
  EXPECT_FALSE(table.lookup(reused, &mac)) << "kept the MAC of the slot's last gateway";
  table.resolve(gateway("192.0.2.1"), kMacB);  // the old key no longer owns the slot
  EXPECT_FALSE(table.lookup(reused, &mac));
}

}  // namespace
}  // namespace vigil::dp

// The neighbour stage through the forwarding pipeline: packets held for an unresolved next
// hop, asked for once, sent when the kernel answers or dropped after the hold time; a
// gateway's MAC changing or vanishing applies from the next packet.
#include "dataplane/pipeline/neighbour_stage.h"

#include "tests/unit/dataplane/pipeline/forwarding_fixture.h"

namespace vigil::dp {
namespace {

TEST_P(ForwardingTest, UnresolvedNeighbourHoldsPacketsAsksOnceAndSendsThemWhenAnswered) {
  const auto frame = PacketBuilder().eth().ipv4("192.0.2.1", "10.1.0.77").udp(1, 2).build();
  run(kWan1, {frame, frame, frame});
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(neighbour_stage_->held(), 3u);
  const auto asked = neighbours_->take_requests(16);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], NeighbourKey::from(kLan, ip("10.1.0.77")));
  set_neighbour(kLan, "10.1.0.77", "02:00:00:00:01:77");
  neighbour_stage_->poll(rte_rdtsc());
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent[0].second, PacketBuilder()
                                      .eth("02:00:00:00:01:77", kPortMac[kLan])
                                      .ipv4("192.0.2.1", "10.1.0.77")
                                      .ttl(63)
                                      .udp(1, 2)
                                      .build());
  EXPECT_EQ(neighbour_stage_->held(), 0u);
}

TEST_P(ForwardingTest, AHeldDatagramOverTheMtuLeavesInFragmentsWhenAnswered) {
  // wan2's MTU is 1400: 1,450 bytes of IP without DF wait for the neighbour, then go as two.
  run(kLan,
      {PacketBuilder().eth().ipv4("10.1.0.5", "198.51.100.77").udp(1, 2).payload(1422).build()});
  EXPECT_EQ(neighbour_stage_->held(), 1u);
  set_neighbour(kWan2, "198.51.100.77", "02:00:00:00:03:77");
  neighbour_stage_->poll(rte_rdtsc());
  ASSERT_EQ(sink_.sent.size(), 2u);
  for (const auto& [port, frame] : sink_.sent) {
    EXPECT_EQ(port, kWan2);
    const auto l2 = PacketBuilder().eth("02:00:00:00:03:77", kPortMac[kWan2]).build();
    EXPECT_TRUE(std::equal(l2.begin(), l2.begin() + 12, frame.begin()));
  }
  EXPECT_EQ(sink_.sent[0].second.size(), 14u + 1396);
  EXPECT_EQ(sink_.sent[1].second.size(), 14u + 74);
  EXPECT_EQ(counters_.ipv4_fragmented, 1u);
}

TEST_P(ForwardingTest, UnansweredNeighbourDropsHeldPacketsAfterTheHoldTime) {
  run(kWan1, {PacketBuilder().eth().ipv4("192.0.2.1", "10.1.0.78").udp(1, 2).build()});
  neighbour_stage_->poll(rte_rdtsc());
  EXPECT_EQ(neighbour_stage_->held(), 1u) << "dropped before its time";
  neighbour_stage_->poll(rte_rdtsc() + rte_get_tsc_hz());  // a second later
  EXPECT_EQ(neighbour_stage_->held(), 0u);
  EXPECT_EQ(drops(DropReason::kNoNeighbour), 1u);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_P(ForwardingTest, GatewaysGetAnAdjacencyEachWhenTheTableHasAProvider) {
  // 192.0.2.1 (two groups), 198.51.100.1 (two groups) and 2001:db8:1::1; none for connected.
  EXPECT_EQ(neighbours_->adjacencies().in_use(), GetParam() ? 3u : 0u);
}

TEST_P(ForwardingTest, ANewGatewayMacOrItsLossAppliesFromTheNextPacket) {
  const auto frame = PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").udp(1, 2).build();
  const auto sent_to = [](const char* gw_mac) {
    return PacketBuilder()
        .eth(gw_mac, kPortMac[kWan1])
        .ipv4("10.1.0.5", "10.50.1.1")
        .ttl(63)
        .udp(1, 2)
        .build();
  };
  run(kLan, {frame});
  set_neighbour(kWan1, "192.0.2.1", "02:00:00:00:02:99");
  run(kLan, {frame});
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(sink_.sent[0].second, sent_to(kGw1Mac));
  EXPECT_EQ(sink_.sent[1].second, sent_to("02:00:00:00:02:99"));

  neighbours_->remove(NeighbourKey::from(kWan1, ip("192.0.2.1")));
  run(kLan, {frame});
  EXPECT_EQ(sink_.sent.size(), 2u) << "sent to a forgotten MAC";
  EXPECT_EQ(neighbour_stage_->held(), 1u);
  const auto asked = neighbours_->take_requests(16);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], NeighbourKey::from(kWan1, ip("192.0.2.1")));
  set_neighbour(kWan1, "192.0.2.1", kGw1Mac);
  neighbour_stage_->poll(rte_rdtsc());
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent[2].second, sent_to(kGw1Mac));
}

INSTANTIATE_TEST_SUITE_P(Lookups, ForwardingTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "GatewaysByAdjacency" : "AllByAddress";
                         });

}  // namespace
}  // namespace vigil::dp

// The lcore's side of flow offload: which transmitted packets it offers (untagged,
// unfragmented TCP/UDP between offloadable ports, with the MACs it leaves with), and that a
// flow is offered once per epoch until the retry time, not once per packet.
#include "dataplane/pipeline/offload_stage.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "ebpf/host/parse_host.h"
#include "tests/packet/packet_builder.h"
#include "tests/unit/dataplane/eal_environment.h"

namespace vigil::dp {
namespace {

using test::make_mbuf;
using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

// As the neighbour stage leaves it: the next hop's and the egress port's MACs.
Frame sent(uint16_t sport, uint8_t proto = 6) {
  auto b =
      PacketBuilder().eth("02:00:00:00:00:aa", "02:00:00:00:00:bb").ipv4("10.1.0.2", "198.18.0.2");
  if (proto == 6) {
    b.tcp(sport, 80, 0x10);
  } else {
    b.icmp(8, 0);
  }
  return b.build();
}

class OffloadStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto c = OffloadChannel::create("stage" + std::to_string(n++), 64);
    ASSERT_TRUE(c.ok()) << c.error();
    channel_ = std::move(*c);
    channel_->set_offloadable(0b011);  // ports 0 and 1
    channel_->set_epoch(5);
    // A retry time no test reaches.
    stage_ = std::make_unique<OffloadStage>(*channel_, rte_get_tsc_hz(), 60000);
  }

  // One burst from port 0 of `frames`, all transmitted out of `out`; the offers it made.
  std::vector<FlowOffer> run(const std::vector<Frame>& frames, PortId out = 1) {
    Burst burst;
    burst.reset(0, static_cast<uint16_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i) {
      burst.packets[i] = make_mbuf(frames[i]);
      EXPECT_EQ(vigil_parse_frame(frames[i].data(), frames[i].size(), &burst.state[i].parsed),
                VIGIL_PARSE_OK);
      burst.state[i].disposition = Disposition::kTransmit;
      burst.state[i].out_port = out;
      burst.state[i].out_mtu = 1400;
    }
    stage_->begin(burst);
    stage_->process(burst);
    for (uint16_t i = 0; i < burst.count; ++i) {
      rte_pktmbuf_free(burst.packets[i]);
    }
    return channel_->take(64);
  }

  std::unique_ptr<OffloadChannel> channel_;
  std::unique_ptr<OffloadStage> stage_;
};

TEST_F(OffloadStageTest, OffersAFlowOnceWithWhatItLeftWith) {
  const auto offers = run({sent(1000), sent(1000), sent(1001)});
  ASSERT_EQ(offers.size(), 2u);
  const FlowOffer& o = offers[0];
  EXPECT_EQ(o.epoch, 5u);
  EXPECT_EQ(o.in_port, 0);
  EXPECT_EQ(o.out_port, 1);
  EXPECT_EQ(o.mtu, 1400);
  EXPECT_EQ(o.dst_mac[5], 0xaa);
  EXPECT_EQ(o.src_mac[5], 0xbb);
  EXPECT_EQ(o.key.family, 4);
  EXPECT_EQ(o.key.proto, 6);
  EXPECT_EQ(ntohs(o.key.sport), 1000);
  EXPECT_EQ(o.key.src[0], 10);
  EXPECT_EQ(o.key.dst[0], 198);
  EXPECT_TRUE(run({sent(1000)}).empty()) << "offered again in the same epoch";
}

TEST_F(OffloadStageTest, ANewEpochOffersAgain) {
  ASSERT_EQ(run({sent(1000)}).size(), 1u);
  channel_->set_epoch(6);
  const auto offers = run({sent(1000)});
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].epoch, 6u);
}

TEST_F(OffloadStageTest, OffersNothingItCannotVouchFor) {
  EXPECT_TRUE(run({sent(1000, 1)}).empty()) << "ICMP";
  EXPECT_TRUE(run({sent(1000)}, 2).empty()) << "to a port that does not take part";
  auto tagged = PacketBuilder().eth().vlan(7).ipv4("10.1.0.2", "198.18.0.2").tcp(1, 80).build();
  EXPECT_TRUE(run({tagged}).empty()) << "VLAN tagged";
  channel_->set_epoch(0);
  EXPECT_TRUE(run({sent(1002)}).empty()) << "offload off";
}

}  // namespace
}  // namespace vigil::dp

// The control thread's side of flow offload over in-memory maps: which ports take part (the
// classifier on them, the kernel's word that the device can send redirected frames), what an
// offer becomes in the ingress port's classifier, and generations: above an earlier run's,
// moved on by every change, 0 when vigil-dp stops.
#include "dataplane/offload/flow_offloader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/kernel/xdp_features.h"
#include "ebpf/loader/offload_maps.h"
#include "tests/unit/dataplane/eal_environment.h"
#include "tests/unit/ebpf/loader/fake_maps.h"

namespace vigil::dp {
namespace {

using ebpf::MapId;
using ebpf::test::FakeMaps;

constexpr uint32_t kLan = 11, kWan = 12, kSlow = 13;

class FlowOffloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto c = OffloadChannel::create("offl" + std::to_string(n++), 64);
    ASSERT_TRUE(c.ok()) << c.error();
    channel_ = std::move(*c);
  }

  std::unique_ptr<FlowOffloader> start() {
    return std::make_unique<FlowOffloader>(
        *channel_,
        std::vector<OffloadPort>{{.id = 0, .name = "lan0", .ifindex = kLan, .maps = &lan_},
                                 {.id = 1, .name = "wan1", .ifindex = kWan, .maps = &wan_},
                                 {.id = 2, .name = "wan2", .ifindex = kSlow, .maps = &slow_},
                                 {.id = 3, .name = "pcap", .ifindex = 0, .maps = nullptr}},
        [this](uint32_t ifindex) -> Expected<uint64_t> {
          if (ifindex == kSlow && !slow_answers_) {
            return fail("no netdev family");
          }
          return ifindex == kSlow ? uint64_t{1} : uint64_t{1 | 2 | kXdpActNdoXmit};
        });
  }

  FlowOffer offer(PortId in, PortId out, uint32_t epoch) {
    FlowOffer o{};
    o.key.family = 4;
    o.key.proto = 6;
    o.key.sport = 1;
    o.key.dport = 2;
    o.key.src[0] = 10;
    o.key.dst[0] = 198;
    o.epoch = epoch;
    o.in_port = in;
    o.out_port = out;
    o.dst_mac[5] = 0xaa;
    o.src_mac[5] = 0xbb;
    o.mtu = 1500;
    return o;
  }

  std::unique_ptr<OffloadChannel> channel_;
  FakeMaps lan_, wan_, slow_;
  bool slow_answers_ = true;
};

TEST_F(FlowOffloaderTest, StartsAboveTheGenerationAnEarlierRunLeft) {
  ASSERT_TRUE(ebpf::set_offload_generation(wan_, 41).ok());
  auto o = start();
  EXPECT_EQ(o->generation(), 42u);
  EXPECT_EQ(channel_->epoch(), 42u);
  for (FakeMaps* m : {&lan_, &wan_, &slow_}) {
    EXPECT_EQ(ebpf::offload_generation(*m), 42u);
  }
}

TEST_F(FlowOffloaderTest, OnlyPortsTheKernelVouchesForTakePart) {
  auto o = start();
  EXPECT_TRUE(o->offloadable(0));
  EXPECT_TRUE(o->offloadable(1));
  EXPECT_FALSE(o->offloadable(2));  // no NETDEV_XDP_ACT_NDO_XMIT
  EXPECT_FALSE(o->offloadable(3));  // no classifier
  EXPECT_TRUE(channel_->offloadable(0, 1));
  EXPECT_FALSE(channel_->offloadable(0, 2));
  // Every classifier may redirect to the two that can send, and only to them.
  for (FakeMaps* m : {&lan_, &wan_, &slow_}) {
    EXPECT_EQ(m->at(MapId::kOffloadPorts).size(), 2u);
    EXPECT_FALSE(m->lookup(MapId::kOffloadPorts, ebpf::bytes_of(kLan)).empty());
    EXPECT_TRUE(m->lookup(MapId::kOffloadPorts, ebpf::bytes_of(kSlow)).empty());
  }
  EXPECT_NE(o->show().ports.at(2).reason.find("cannot send frames"), std::string::npos);
}

TEST_F(FlowOffloaderTest, AnUnansweredQuestionIsANo) {
  slow_answers_ = false;
  auto o = start();
  EXPECT_FALSE(o->offloadable(2));
  EXPECT_EQ(o->show().ports.at(2).reason, "no netdev family");
}

TEST_F(FlowOffloaderTest, AnOfferBecomesAnEntryInTheIngressPortsClassifier) {
  auto o = start();
  const FlowOffer f = offer(0, 1, o->generation());
  ASSERT_TRUE(channel_->offer(f));
  o->tick();
  EXPECT_EQ(o->stats().installed, 1u);
  EXPECT_TRUE(wan_.at(MapId::kOffloadedFlows).empty());
  const auto stored = lan_.lookup(MapId::kOffloadedFlows, ebpf::bytes_of(f.key));
  ASSERT_EQ(stored.size(), sizeof(vigil_offload));
  vigil_offload v;
  std::memcpy(&v, stored.data(), sizeof(v));
  EXPECT_EQ(v.generation, o->generation());
  EXPECT_EQ(v.out_ifindex, kWan);
  EXPECT_EQ(v.out_port, 1);
  EXPECT_EQ(v.mtu, 1500);
  EXPECT_EQ(v.dst_mac[5], 0xaa);
  EXPECT_EQ(v.src_mac[5], 0xbb);
}

TEST_F(FlowOffloaderTest, OffersDecidedBeforeAChangeOrToPortsThatCannotSendAreDropped) {
  auto o = start();
  const uint32_t before = o->generation();
  o->invalidate();  // a route changed
  EXPECT_EQ(o->generation(), before + 1);
  EXPECT_EQ(channel_->epoch(), before + 1);
  EXPECT_EQ(ebpf::offload_generation(lan_), before + 1);
  ASSERT_TRUE(channel_->offer(offer(0, 1, before)));
  ASSERT_TRUE(channel_->offer(offer(0, 2, before + 1)));
  o->tick();
  EXPECT_EQ(o->stats().stale, 1u);
  EXPECT_EQ(o->stats().declined, 1u);
  EXPECT_EQ(o->stats().installed, 0u);
  EXPECT_TRUE(lan_.at(MapId::kOffloadedFlows).empty());
}

TEST_F(FlowOffloaderTest, ANextHopsNewMacRetiresOnlyTheFlowsToIt) {
  auto o = start();
  const uint32_t generation = o->generation();
  FlowOffer to_a = offer(0, 1, generation);  // to next hop ...:aa
  FlowOffer to_b = offer(0, 1, generation);
  to_b.key.sport = 7;
  to_b.dst_mac[5] = 0xcc;  // another next hop on the same port
  ASSERT_TRUE(channel_->offer(to_a));
  ASSERT_TRUE(channel_->offer(to_b));
  o->tick();
  ASSERT_EQ(lan_.at(MapId::kOffloadedFlows).size(), 2u);

  const Mac a{0, 0, 0, 0, 0, 0xaa}, a2{0, 0, 0, 0, 0, 0xab};
  const auto gateway = *net::IpAddress::parse("198.18.0.1");
  o->neighbour_changed(1, gateway, a, a2);
  EXPECT_EQ(o->generation(), generation);  // nothing else retired
  EXPECT_EQ(o->stats().retired, 1u);
  EXPECT_TRUE(lan_.lookup(MapId::kOffloadedFlows, ebpf::bytes_of(to_a.key)).empty());
  EXPECT_FALSE(lan_.lookup(MapId::kOffloadedFlows, ebpf::bytes_of(to_b.key)).empty());

  // An offer an lcore decided before the change, still to the old MAC: held, not installed.
  ASSERT_TRUE(channel_->offer(to_a));
  o->tick();
  EXPECT_EQ(o->stats().held, 1u);
  EXPECT_TRUE(lan_.lookup(MapId::kOffloadedFlows, ebpf::bytes_of(to_a.key)).empty());
}

TEST_F(FlowOffloaderTest, ANeighbourWhoseMacKeepsChangingIsNotOffloadedToWhileItFlaps) {
  auto o = start();
  const auto flapper = *net::IpAddress::parse("10.1.0.66");
  Mac mac{2, 0, 0, 0, 0, 1};
  for (uint8_t i = 2; i < 6; ++i) {
    Mac next = mac;
    next[5] = i;
    o->neighbour_changed(0, flapper, mac, next);
    mac = next;
  }
  EXPECT_EQ(o->damped_neighbours(), 1u);
  FlowOffer to_flapper = offer(1, 0, o->generation());
  std::memcpy(to_flapper.dst_mac, mac.data(), 6);  // its current MAC, too
  ASSERT_TRUE(channel_->offer(to_flapper));
  o->tick();
  EXPECT_EQ(o->stats().held, 1u);
  EXPECT_EQ(o->stats().installed, 0u);
  // Everyone else's flows are offloaded as before.
  ASSERT_TRUE(channel_->offer(offer(0, 1, o->generation())));
  o->tick();
  EXPECT_EQ(o->stats().installed, 1u);
}

TEST_F(FlowOffloaderTest, AFailedWriteIsCountedNotInstalled) {
  auto o = start();
  lan_.fail_on = MapId::kOffloadedFlows;
  ASSERT_TRUE(channel_->offer(offer(0, 1, o->generation())));
  o->tick();
  EXPECT_EQ(o->stats().failed, 1u);
  EXPECT_EQ(o->stats().installed, 0u);
}

TEST_F(FlowOffloaderTest, StoppingStopsOffloadingEverywhere) {
  auto o = start();
  o.reset();
  for (FakeMaps* m : {&lan_, &wan_, &slow_}) {
    EXPECT_EQ(ebpf::offload_generation(*m), 0u);
  }
  EXPECT_EQ(channel_->epoch(), 0u);
  EXPECT_FALSE(channel_->offloadable(0, 1));
}

}  // namespace
}  // namespace vigil::dp

// The admit stage in the forwarding pipeline (forwarding_fixture.h): what a router refuses to
// route before any route is looked up, each case with the reason it is counted under, and
// what it lets through unchanged but trimmed.
#include "dataplane/pipeline/admit_stage.h"

#include "tests/unit/dataplane/pipeline/forwarding_fixture.h"

namespace vigil::dp {
namespace {

std::vector<uint8_t> lan_udp() {
  return PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1").udp(1000, 2000).payload(20).build();
}

// `frame` (untagged IPv4 with `options.size()` bytes of options, a multiple of 4) with those
// option bytes and its header checksum made right again.
std::vector<uint8_t> with_options(std::vector<uint8_t> frame, const std::vector<uint8_t>& options) {
  std::copy(options.begin(), options.end(), frame.begin() + 34);
  const size_t header = size_t{frame[14] & 0x0fu} * 4;
  frame[24] = frame[25] = 0;
  uint32_t sum = 0;
  for (size_t i = 0; i < header; i += 2) {
    sum += static_cast<uint32_t>(frame[14 + i] << 8 | frame[15 + i]);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  frame[24] = static_cast<uint8_t>(~sum >> 8);
  frame[25] = static_cast<uint8_t>(~sum);
  return frame;
}

class AdmitTest : public ForwardingTest {
 protected:
  // Runs one frame in on `port` (addressed to it unless `as_sent`) and returns what happened.
  struct Outcome {
    size_t sent = 0, kernel = 0;
    std::optional<DropReason> dropped;
  };
  Outcome one(PortId port, const std::vector<uint8_t>& frame, bool as_sent = false) {
    sink_.sent.clear();
    sink_.kernel.clear();
    const LcoreCounters before = counters_;
    if (as_sent) {
      run_as_sent(port, {frame});
    } else {
      run(port, {frame});
    }
    Outcome o{.sent = sink_.sent.size(), .kernel = sink_.kernel.size()};
    for (size_t r = 0; r < static_cast<size_t>(DropReason::kCount); ++r) {
      if (counters_.drops[r] != before.drops[r]) {
        EXPECT_FALSE(o.dropped) << "counted twice";
        o.dropped = static_cast<DropReason>(r);
      }
    }
    return o;
  }
  void expect_dropped(PortId port, const std::vector<uint8_t>& frame, DropReason reason,
                      bool as_sent = false) {
    const Outcome o = one(port, frame, as_sent);
    EXPECT_EQ(o.sent, 0u);
    EXPECT_EQ(o.kernel, 0u);
    ASSERT_TRUE(o.dropped);
    EXPECT_EQ(kDropReasonNames[static_cast<size_t>(*o.dropped)],
              kDropReasonNames[static_cast<size_t>(reason)]);
  }
};

// The mesh's kernel device carries the box's own packets to other sites: from its addresses
// only, and never a group frame (the kernel would get it back).
TEST_P(AdmitTest, TheMeshKernelDeviceAdmitsOnlyTheBoxsOwnUnicast) {
  const auto own =
      PacketBuilder().eth().ipv4("10.1.0.1", "10.70.1.1").udp(1000, 2000).payload(20).build();
  one(kMeshKernel, own);
  EXPECT_EQ(tunnel_->taken.size(), 1u);
  expect_dropped(kMeshKernel, lan_udp(), DropReason::kKernelPathForeignSource);
  auto broadcast = own;
  std::fill(broadcast.begin(), broadcast.begin() + 6, uint8_t{0xff});
  expect_dropped(kMeshKernel, broadcast, DropReason::kKernelPathGroup, /*as_sent=*/true);
  const auto group =
      PacketBuilder().eth().ipv4("10.1.0.1", "224.0.0.5").udp(1000, 2000).payload(20).build();
  expect_dropped(kMeshKernel, group, DropReason::kKernelPathGroup);
  // Elsewhere the box's own source is a spoof, as before.
  expect_dropped(kLan, own, DropReason::kMartianOwnSource);
}

// Another site's broadcast or multicast, decrypted, does not reach the box's kernel; its
// unicast for the box does.
TEST_P(AdmitTest, GroupDestinationsFromATunnelAreDropped) {
  auto addressed = [](std::vector<uint8_t> f) {
    const rte_ether_addr wan = mac(kPortMac[kWan1]);
    std::memcpy(f.data(), wan.addr_bytes, 6);
    return f;
  };
  for (const char* group : {"255.255.255.255", "224.0.0.251", "239.1.2.3"}) {
    const LcoreCounters before = counters_;
    run_as_sent(kWan1,
                {addressed(PacketBuilder().eth().ipv4("10.70.1.5", group).udp(5353, 5353).build())},
                /*from_tunnel=*/true);
    EXPECT_EQ(drops(DropReason::kTunnelGroupDestination),
              before.drops[static_cast<size_t>(DropReason::kTunnelGroupDestination)] + 1)
        << group;
  }
  EXPECT_TRUE(sink_.kernel.empty());
  run_as_sent(
      kWan1, {addressed(PacketBuilder().eth().ipv4("10.70.1.5", "10.1.0.1").tcp(4000, 22).build())},
      /*from_tunnel=*/true);
  EXPECT_EQ(sink_.kernel.size(), 1u);
}

TEST_P(AdmitTest, FramesForOtherHostsAreDroppedAndGroupFramesAreTheKernels) {
  auto frame = lan_udp();
  expect_dropped(kLan, frame, DropReason::kOtherHost, /*as_sent=*/true);  // builder's MAC
  for (uint8_t first : {uint8_t{0xff}, uint8_t{0x01}}) {                  // broadcast, multicast
    std::fill(frame.begin(), frame.begin() + 6, first);
    const Outcome o = one(kLan, frame, true);
    EXPECT_EQ(o.kernel, 1u);
    EXPECT_EQ(o.sent, 0u);
  }
  EXPECT_EQ(one(kLan, lan_udp()).sent, 1u);  // to the port's own MAC: routed
}

TEST_P(AdmitTest, OnlyTheVlansOfThePortAreTakenAndTheyAreTheKernels) {
  auto tagged = [](uint16_t id) {
    return PacketBuilder().eth().vlan(id).ipv4("10.1.0.5", "10.50.1.1").udp(1, 2).build();
  };
  expect_dropped(kLan, tagged(100), DropReason::kUnknownVlan);
  expect_dropped(kWan1, tagged(20), DropReason::kUnknownVlan);  // lan0's VLAN, not wan1's
  EXPECT_EQ(one(kLan, tagged(20)).kernel, 1u);
  expect_dropped(kLan,
                 PacketBuilder()
                     .eth()
                     .vlan(20, 0x88a8)
                     .vlan(30)
                     .ipv4("10.1.0.5", "10.50.1.1")
                     .udp(1, 2)
                     .build(),
                 DropReason::kUnknownVlan);  // QinQ
  EXPECT_EQ(one(kLan, tagged(0)).sent, 1u);  // a priority tag is no VLAN
}

TEST_P(AdmitTest, TrailingBytesAreTrimmedNotForwarded) {
  auto frame = lan_udp();
  const size_t length = frame.size();
  frame.resize(length + 37, 0xee);
  ASSERT_EQ(one(kLan, frame).sent, 1u);
  EXPECT_EQ(sink_.sent[0].second.size(), length);
}

TEST_P(AdmitTest, TheIpv4HeaderIsChecked) {
  auto bad = lan_udp();
  bad[24] ^= 0x5a;
  expect_dropped(kLan, bad, DropReason::kBadChecksum);

  const auto with_room =
      PacketBuilder().eth().ipv4("10.1.0.5", "10.50.1.1", 0, 8).udp(1000, 2000).payload(4).build();
  EXPECT_EQ(one(kLan, with_options(with_room, {7, 7, 4, 0, 0, 0, 0, 0})).sent, 1u);  // RR
  expect_dropped(kLan, with_options(with_room, {0x83, 7, 4, 203, 0, 113, 1, 0}),
                 DropReason::kSourceRoute);

  // A malformed option: ICMP parameter problem back to the sender, pointing at it.
  const auto malformed = with_options(with_room, {7, 1, 0, 0, 0, 0, 0, 0});
  const Outcome o = one(kLan, malformed);
  ASSERT_EQ(o.sent, 1u);
  EXPECT_EQ(kDropReasonNames[static_cast<size_t>(*o.dropped)], "bad_ipv4_options");
  const auto& error = sink_.sent[0].second;
  EXPECT_EQ(sink_.sent[0].first, kLan);
  ASSERT_GE(error.size(), 14u + 20 + 8);
  EXPECT_EQ(error[14 + 20], 12);      // parameter problem
  EXPECT_EQ(error[14 + 20 + 1], 0);   // pointer indicates the error
  EXPECT_EQ(error[14 + 20 + 4], 20);  // at the option's first octet
}

TEST_P(AdmitTest, MartiansAreDroppedByReasonUnlessThePortAllowsThem) {
  auto v4 = [](const char* src, const char* dst) {
    return PacketBuilder().eth().ipv4(src, dst).udp(1, 2).build();
  };
  expect_dropped(kLan, v4("127.0.0.1", "10.50.1.1"), DropReason::kMartianSourceLoopback);
  expect_dropped(kLan, v4("224.0.0.5", "10.50.1.1"), DropReason::kMartianSourceMulticast);
  expect_dropped(kLan, v4("10.1.0.1", "10.50.1.1"), DropReason::kMartianOwnSource);
  expect_dropped(kWan1, v4("192.0.2.7", "0.1.2.3"), DropReason::kMartianDestinationThisNetwork);
  expect_dropped(kWan1, v4("192.0.2.7", "240.0.0.1"), DropReason::kMartianDestinationReserved);
  EXPECT_EQ(one(kWan2, v4("198.51.100.7", "240.0.0.1")).sent, 1u);  // wan2 allows 240/4
  expect_dropped(kLan, PacketBuilder().eth().ipv6("fe80::5", "fd00:99::1").udp(1, 2).build(),
                 DropReason::kMartianSourceLinkLocal);
  expect_dropped(kLan, PacketBuilder().eth().ipv6("fd00:1::1", "fd00:99::1").udp(1, 2).build(),
                 DropReason::kMartianOwnSource);
  // Group destinations are for the box or no one: the kernel's, never routed.
  EXPECT_EQ(one(kLan, v4("10.1.0.5", "224.1.2.3")).kernel, 1u);
  EXPECT_EQ(one(kLan, v4("10.1.0.5", "255.255.255.255")).kernel, 1u);
}

INSTANTIATE_TEST_SUITE_P(Lookups, AdmitTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "GatewaysByAdjacency" : "AllByAddress";
                         });

}  // namespace
}  // namespace vigil::dp

// The router's checks in the classifier (classifier_frame_checks.h and where the program uses
// them): other hosts' frames and unknown VLANs dropped on arrival, broadcast/multicast frames
// and VLAN sub-interfaces passed to the kernel, no VIP traffic from martian sources, later
// fragments and long IPv6 extension-header chains steered like any transit, and the "too big"
// answers limited per source and never sent to the box itself.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/martian.h"
#pragma GCC diagnostic pop

namespace vigil::ebpf {
namespace {

class FrameChecksTest : public ClassifierTest {
 protected:
  void apply(ClassifierConfig c) {
    auto s = classifier_->apply(c);
    ASSERT_TRUE(s.ok()) << s.error();
  }
  static ClassifierConfig with_port(ClassifierConfig c = base_config()) {
    c.port_mac = std::array<uint8_t, 6>{0x02, 0, 0, 0, 0, 0x02};  // kOwnMac
    c.port_vlans = {20};
    return c;
  }
};

Frame to_vip(const char* dst_mac = kOwnMac) {
  return PacketBuilder().eth(dst_mac, kClientMac).ipv4("10.5.0.2", "10.100.0.1").tcp(1, 80).build();
}

TEST_F(FrameChecksTest, WithoutThePortsMacNothingIsCheckedOnceKnownOtherHostsFramesAreDropped) {
  expect(to_vip("02:00:00:00:00:99"), XDP_TX, "tx_vip_encapsulated");  // not known yet
  apply(with_port());
  expect(to_vip("02:00:00:00:00:99"), XDP_DROP, "drop_other_host");
  expect(to_vip(), XDP_TX, "tx_vip_encapsulated");
  expect(to_vip("ff:ff:ff:ff:ff:ff"), XDP_PASS, "pass_l2_broadcast_multicast");
  expect(to_vip("01:00:5e:00:00:01"), XDP_PASS, "pass_l2_broadcast_multicast");
}

TEST_F(FrameChecksTest, OnlyThePortsVlansAreTakenAndTheyAreTheKernels) {
  apply(with_port());
  auto tagged = [](uint16_t id) {
    return PacketBuilder().eth().vlan(id).ipv4("10.5.0.2", "10.100.0.1").tcp(1, 80).build();
  };
  expect(tagged(100), XDP_DROP, "drop_unknown_vlan");
  expect(tagged(20), XDP_PASS, "pass_vlan_subinterface");
  expect(tagged(0), XDP_TX, "tx_vip_encapsulated");  // a priority tag
  expect(PacketBuilder()
             .eth()
             .vlan(20, 0x88a8)
             .vlan(20)
             .ipv4("10.5.0.2", "10.100.0.1")
             .tcp(1, 80)
             .build(),
         XDP_DROP, "drop_unknown_vlan");
}

TEST_F(FrameChecksTest, NoVipTrafficFromMartianSourcesUnlessThePortAllowsThem) {
  apply(with_port());
  for (const char* src : {"127.0.0.1", "0.0.0.9", "240.1.1.1", "169.254.1.1"}) {
    SCOPED_TRACE(src);
    expect(PacketBuilder().eth().ipv4(src, "10.100.0.1").tcp(1, 80).build(), XDP_DROP,
           "drop_martian");
  }
  expect(PacketBuilder().eth().ipv6("::1", "fd00:100::1").tcp(1, 443).build(), XDP_DROP,
         "drop_martian");
  auto c = with_port();
  c.allow_martians = VIGIL_ALLOW_LOOPBACK;
  apply(c);
  expect(PacketBuilder().eth().ipv4("127.0.0.1", "10.100.0.1").tcp(1, 80).build(), XDP_TX,
         "tx_vip_encapsulated");
}

TEST_F(FrameChecksTest, TooBigAnswersAreLimitedPerSourceAndNeverSentToTheBox) {
  auto big = [](const char* src) {
    return PacketBuilder().eth().ipv4(src, "10.100.0.1", 0x4000).tcp(1, 80).payload(1441).build();
  };
  for (int i = 0; i < VIGIL_ICMP_SOURCE_BURST; ++i) {
    expect(big("10.5.0.2"), XDP_TX, "tx_icmp_too_big");
  }
  expect(big("10.5.0.2"), XDP_DROP, "drop_vip_too_big_icmp_limited");
  expect(big("10.5.0.3"), XDP_TX, "tx_icmp_too_big");  // another source: its own bucket
  expect(big("10.0.0.1"), XDP_DROP, "drop_vip_too_big_icmp_limited");  // the box's address
}

TEST_F(FrameChecksTest, LaterFragmentsInTransitGoToTheFastPathTheBoxsToTheKernel) {
  auto later = [](const char* dst) {
    auto f = PacketBuilder().eth().ipv4("10.5.0.2", dst, 0x00b9).payload(100).build();
    return f;
  };
  expect(later("203.0.113.50"), XDP_PASS, "pass_later_fragment");  // no steering: the kernel
  auto c = base_config();
  c.steer_transit = true;
  apply(c);
  // No socket bound in a test run: what would go to vigil-dp passes, counted as such.
  expect(later("203.0.113.50"), XDP_PASS, "pass_fast_path_down");
  expect(later("10.0.0.1"), XDP_PASS, "pass_later_fragment");
  expect(later("224.0.0.9"), XDP_PASS, "pass_later_fragment");
  c.later_fragments = Action::kDrop;
  apply(c);
  expect(later("203.0.113.50"), XDP_DROP, "drop_later_fragment");
}

TEST_F(FrameChecksTest, ALongIpv6ExtensionChainIsTransitLikeAnyOtherButMalformedForTheBox) {
  auto chain = [](const char* dst) {
    return PacketBuilder()
        .eth()
        .ipv6("fd00:5::2", dst)
        .ipv6_ext(60)
        .ipv6_ext(60)
        .ipv6_ext(60)
        .ipv6_ext(60)
        .ipv6_ext(60)
        .tcp(1, 443)
        .build();
  };
  auto c = base_config();
  c.steer_transit = true;
  apply(c);
  expect(chain("2001:db8::7"), XDP_PASS, "pass_fast_path_down");
  expect(chain("fd00::1"), XDP_DROP, "drop_malformed");
  expect(chain("fd00:100::1"), XDP_DROP, "drop_malformed");  // a VIP's address
}

}  // namespace
}  // namespace vigil::ebpf

namespace vigil::ebpf {
namespace {

// A datagram to VIP web4 (10.100.0.1:80) in two fragments: the first with the TCP header, the
// second without; `id` is their identification, `src` the sender.
std::pair<Frame, Frame> fragmented_to_vip(const char* src, uint16_t id) {
  auto first =
      PacketBuilder().eth().ipv4(src, "10.100.0.1", 0x2000).tcp(4000, 80).payload(16).build();
  auto later = PacketBuilder().eth().ipv4(src, "10.100.0.1", 0x0005).payload(24).build();
  for (Frame* f : {&first, &later}) {
    put16(*f, 18, id);
    (*f)[23] = 6;  // TCP, as every fragment of the datagram says
    put16(*f, 24, 0);
    put16(*f, 24, static_cast<uint16_t>(~ones_sum(&(*f)[14], 20)));
  }
  return {first, later};
}

TEST_F(FrameChecksTest, LaterFragmentsOfAVipsDatagramFollowTheFirstToItsBackend) {
  const auto [first, later] = fragmented_to_vip("10.5.0.2", 0x1234);
  const Frame out_first = expect(first, XDP_TX, "tx_vip_encapsulated");
  const Frame out_later = expect(later, XDP_TX, "tx_vip_encapsulated");
  // The same outer header (backend, outer source from the flow hash) on both.
  ASSERT_GE(out_first.size(), 34u);
  ASSERT_GE(out_later.size(), 34u);
  EXPECT_TRUE(std::equal(out_first.begin() + 26, out_first.begin() + 34, out_later.begin() + 26));
  EXPECT_EQ(event(classifier_->counters(), "vip_fragment_matched"), 1u);

  // A later fragment whose first never came (another identification): not a VIP packet.
  const auto [unused, stray] = fragmented_to_vip("10.5.0.2", 0x9999);
  (void)unused;
  expect(stray, XDP_PASS, "pass_later_fragment");
  EXPECT_EQ(event(classifier_->counters(), "vip_fragment_unmatched"), 1u);
}

}  // namespace
}  // namespace vigil::ebpf

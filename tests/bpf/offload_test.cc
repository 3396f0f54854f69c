// Flow offload in the XDP classifier, through BPF_PROG_TEST_RUN: a transit flow vigil-dp has
// offloaded is forwarded by the program itself (XDP_REDIRECT, TTL or hop limit down by one,
// IPv4 checksum patched, the next hop's and the egress port's MACs), byte for byte what
// vigil-dp would have sent; everything an entry cannot vouch for goes to the fast path
// untouched. Needs root.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "ebpf/host/parse_host.h"
#include "ebpf/loader/classifier.h"
#include "ebpf/loader/offload_maps.h"
#include "tests/bpf/expect_verdict.h"
#include "tests/packet/packet_builder.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/offload.h"
#pragma GCC diagnostic pop

namespace vigil::ebpf {
namespace {

using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

constexpr const char* kNextHopMac = "02:00:00:00:aa:01";
constexpr const char* kEgressMac = "02:00:00:00:bb:02";
constexpr uint8_t kOutPort = 3;
constexpr uint16_t kMtu = 1500;
constexpr uint32_t kGeneration = 7;

vigil_offload_key key_of(const Frame& frame) {
  vigil_packet p{};
  EXPECT_EQ(vigil_parse_frame(frame.data(), frame.size(), &p), VIGIL_PARSE_OK);
  vigil_offload_key k{};
  vigil_offload_key_of(&p, &k);
  return k;
}

class OffloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root for BPF_PROG_TEST_RUN";
    }
    auto c = Classifier::load({});
    ASSERT_TRUE(c.ok()) << c.error();
    classifier_ = std::move(*c);
    ClassifierConfig config;
    config.steer_transit = true;
    config.local_addresses = {net::IpAddress::parse("10.0.0.1").value()};
    auto s = classifier_->apply(config);
    ASSERT_TRUE(s.ok()) << s.error();
    // The loopback device stands for the egress: the redirect is decided, not carried out.
    egress_ = if_nametoindex("lo");
    ASSERT_TRUE(add_offload_target(classifier_->maps(), egress_).ok());
    ASSERT_TRUE(set_offload_generation(classifier_->maps(), kGeneration).ok());
  }

  void offload(const Frame& frame, uint32_t generation = kGeneration, uint16_t mtu = kMtu) {
    vigil_offload f{
        .generation = generation, .out_ifindex = egress_, .mtu = mtu, .out_port = kOutPort};
    const uint8_t next_hop[6] = {2, 0, 0, 0, 0xaa, 1};
    const uint8_t egress[6] = {2, 0, 0, 0, 0xbb, 2};
    std::memcpy(f.dst_mac, next_hop, 6);
    std::memcpy(f.src_mac, egress, 6);
    ASSERT_TRUE(offload_flow(classifier_->maps(), key_of(frame), f).ok());
  }

  // Runs the frame; checks the action, that `verdict` counted it, and returns the output.
  Frame expect(const Frame& in, int action, const std::string& verdict) {
    return test::expect_verdict(*classifier_, in, action, verdict);
  }

  std::unique_ptr<Classifier> classifier_;
  uint32_t egress_ = 0;
};

// A flow's packet as it arrives, and as vigil-dp would send it on.
Frame tcp4(uint8_t ttl = 64) {
  return PacketBuilder()
      .eth()
      .ipv4("10.1.0.2", "10.2.0.2")
      .ttl(ttl)
      .tcp(40000, 5201, 0x10)
      .payload(100)
      .build();
}

TEST_F(OffloadTest, AnOffloadedIpv4FlowIsForwardedAsTheFastPathWould) {
  offload(tcp4());
  const Frame out = expect(tcp4(), XDP_REDIRECT, "redirect_offloaded_flow");
  const Frame want = PacketBuilder()
                         .eth(kNextHopMac, kEgressMac)
                         .ipv4("10.1.0.2", "10.2.0.2")
                         .ttl(63)
                         .tcp(40000, 5201, 0x10)
                         .payload(100)
                         .build();
  EXPECT_EQ(out, want);  // the IPv4 checksum too: the builder sums it afresh
  const Count tx = offloaded_tx(classifier_->maps(), kOutPort);
  EXPECT_EQ(tx.packets, 1u);
  EXPECT_EQ(tx.bytes, tcp4().size());
}

TEST_F(OffloadTest, AnOffloadedIpv6FlowLosesOneHop) {
  const auto flow = [](uint8_t hops) {
    return PacketBuilder()
        .eth()
        .ipv6("fd00:1::2", "fd00:2::2")
        .ttl(hops)
        .udp(5000, 53)
        .payload(40)
        .build();
  };
  offload(flow(64));
  const Frame out = expect(flow(64), XDP_REDIRECT, "redirect_offloaded_flow");
  EXPECT_EQ(out, PacketBuilder()
                     .eth(kNextHopMac, kEgressMac)
                     .ipv6("fd00:1::2", "fd00:2::2")
                     .ttl(63)
                     .udp(5000, 53)
                     .payload(40)
                     .build());
}

// What an entry cannot vouch for goes to vigil-dp as it came (here no socket is bound, so the
// fast path is "down" and the kernel gets it, unchanged).
struct Declined {
  const char* description;
  std::function<Frame()> frame;
  std::function<void(MapAccess& maps, uint32_t egress)> setup;
  // An entry under the frame's own 5-tuple too, so only the rule under test declines it.
  bool own_entry = true;
};

TEST_F(OffloadTest, WhatAnEntryCannotVouchForGoesToTheFastPathUntouched) {
  const Declined cases[] = {
      {"the reverse direction, not offloaded",
       [] {
         return PacketBuilder().eth().ipv4("10.2.0.2", "10.1.0.2").tcp(5201, 40000, 0x10).build();
       },
       nullptr, false},
      {"TTL 1: vigil-dp answers with time exceeded", [] { return tcp4(1); }, nullptr},
      {"larger than the egress MTU: vigil-dp answers or drops",
       [] {
         return PacketBuilder()
             .eth()
             .ipv4("10.1.0.2", "10.2.0.2")
             .tcp(40000, 5201, 0x10)
             .payload(1600)
             .build();
       },
       nullptr},
      {"VLAN tagged",
       [] {
         return PacketBuilder()
             .eth()
             .vlan(10)
             .ipv4("10.1.0.2", "10.2.0.2")
             .tcp(40000, 5201, 0x10)
             .build();
       },
       nullptr},
      {"a first fragment (MF)",
       [] {
         return PacketBuilder()
             .eth()
             .ipv4("10.1.0.2", "10.2.0.2", 0x2000)
             .tcp(40000, 5201, 0x10)
             .build();
       },
       nullptr},
      {"ICMP", [] { return PacketBuilder().eth().ipv4("10.1.0.2", "10.2.0.2").icmp(8, 0).build(); },
       nullptr, false},
      {"trailing bytes after the IP packet: vigil-dp trims them",
       [] {
         auto f = tcp4();
         f.resize(f.size() + 9, 0xee);
         return f;
       },
       nullptr, false},
      {"a damaged IPv4 header (checksum wrong): vigil-dp drops it",
       [] {
         auto f = tcp4();
         f[14 + 10] ^= 0x5a;
         return f;
       },
       nullptr, false},
      {"IPv4 options: vigil-dp checks and fills them",
       [] {
         return PacketBuilder()
             .eth()
             .ipv4("10.1.0.2", "10.2.0.2", 0, 4)
             .tcp(40000, 5201, 0x10)
             .build();
       },
       nullptr},
      {"the egress device left the targets", [] { return tcp4(); },
       [](MapAccess& maps, uint32_t egress) {
         ASSERT_TRUE(remove_offload_target(maps, egress).ok());
       }},
      {"offloading stopped (generation 0)", [] { return tcp4(); },
       [](MapAccess& maps, uint32_t) { ASSERT_TRUE(set_offload_generation(maps, 0).ok()); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    SetUp();
    offload(tcp4());
    const Frame in = c.frame();
    if (c.own_entry) {
      offload(in);
    }
    if (c.setup) {
      c.setup(classifier_->maps(), egress_);
    }
    EXPECT_EQ(expect(in, XDP_PASS, "pass_fast_path_down"), in);
  }
}

TEST_F(OffloadTest, AnEntryOfAnEarlierGenerationIsStaleAndCounted) {
  offload(tcp4(), kGeneration - 1);
  auto stale = [&] {
    for (const auto& e : classifier_->counters().events) {
      if (e.name == "offloaded_flow_stale") {
        return e.count.packets;
      }
    }
    ADD_FAILURE() << "no offloaded_flow_stale event";
    return uint64_t{0};
  };
  EXPECT_EQ(stale(), 0u);
  EXPECT_EQ(expect(tcp4(), XDP_PASS, "pass_fast_path_down"), tcp4());
  EXPECT_EQ(stale(), 1u);
  // Written again under the current generation, it forwards.
  offload(tcp4());
  expect(tcp4(), XDP_REDIRECT, "redirect_offloaded_flow");
}

TEST_F(OffloadTest, TrafficForTheBoxIsNeverOffloaded) {
  const Frame ssh = PacketBuilder().eth().ipv4("10.1.0.2", "10.0.0.1").tcp(40000, 22, 0x10).build();
  offload(ssh);
  expect(ssh, XDP_PASS, "pass_default_policy");
}

}  // namespace
}  // namespace vigil::ebpf

// Two sites' lcores, each with the real pipeline (parse → mesh receive → admit → route → mesh
// send → neighbour) over real mbufs and FIBs, joined by a wire the test carries frames over:
// what site A seals to B arrives at B's LAN host exactly as sent, less one TTL; replays,
// tampering, foreign sources and unknown indexes are dropped by name; packets wait for a
// session and leave once it comes; handshake messages reach the control thread with their
// source; displaced sessions are handed back to be freed. With two lcores at a site, what the
// one not owning the peer receives or routes is passed to the owner and handled there.
#include "dataplane/mesh/lcore_tunnels.h"

#include <atomic>
#include <thread>

#include "sdwan/wireguard/index_shard.h"
#include "sdwan/wireguard/messages.h"
#include "tests/support/wg_session_pair.h"
#include "tests/unit/dataplane/mesh/mesh_site.h"

namespace vigil::dp {
namespace {

using namespace test_mesh;

uint16_t be16(const std::vector<uint8_t>& f, size_t at) {
  return static_cast<uint16_t>(f.at(at) << 8 | f.at(at + 1));
}

class LcoreTunnelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    a_ = std::make_unique<Site>("ta" + std::to_string(n), kA);
    b_ = std::make_unique<Site>("tb" + std::to_string(n++), kB);
    a_->neighbour(kSiteWan, "192.0.2.2", kB.wan_mac);
    b_->neighbour(kSiteWan, "192.0.2.1", kA.wan_mac);
    a_->neighbour(kSiteLan, "10.1.0.5", kHostA);
    b_->neighbour(kSiteLan, "10.2.0.7", kHostB);
    std::tie(keys_a_, keys_b_) = test::wg_session_pair();
    a_->endpoint("192.0.2.2:51820");
    b_->endpoint("192.0.2.1:51820");
  }
  // A's session as initiator and B's as responder: A says so with a keepalive, which confirms
  // B's.
  void connect() {
    b_->install(keys_b_, /*as_next=*/true);
    a_->install(keys_a_, /*as_next=*/false);
    const auto keepalive = a_->sent(kSiteWan);
    ASSERT_EQ(keepalive.size(), 1u);
    b_->receive(kSiteWan, keepalive);
    ASSERT_EQ(b_->stats().current_index.load(), keys_b_.local_index);
  }
  static std::vector<uint8_t> lan_packet(const char* src, const char* dst, uint8_t ttl = 64) {
    return PacketBuilder()
        .eth(kA.lan_mac, kHostA)
        .ipv4(src, dst)
        .ttl(ttl)
        .udp(4000, 5000)
        .payload(100)
        .build();
  }

  std::unique_ptr<Site> a_, b_;
  wg::SessionKeys keys_a_, keys_b_;
};

TEST_F(LcoreTunnelsTest, AnInstalledSessionSaysSoWithAKeepaliveToTheEndpoint) {
  b_->install(keys_b_, true);
  a_->install(keys_a_, false);
  const auto sent = a_->sent(kSiteWan);
  ASSERT_EQ(sent.size(), 1u);
  const auto& f = sent[0];
  const auto expected_l2 = PacketBuilder().eth(kB.wan_mac, kA.wan_mac).build();
  EXPECT_TRUE(std::equal(expected_l2.begin(), expected_l2.begin() + 12, f.begin()));
  ASSERT_EQ(f.size(), 14u + 20 + 8 + wg::kKeepaliveSize);
  EXPECT_EQ(be16(f, 14 + 2), 20 + 8 + wg::kKeepaliveSize) << "IPv4 total length";
  EXPECT_EQ(rte_raw_cksum(f.data() + 14, 20), 0xffff) << "IPv4 header checksum";
  EXPECT_EQ(f[14 + 9], IPPROTO_UDP);
  EXPECT_EQ(std::vector<uint8_t>(f.begin() + 26, f.begin() + 34),
            (std::vector<uint8_t>{192, 0, 2, 1, 192, 0, 2, 2}));
  EXPECT_EQ(be16(f, 34), kMeshPort);
  EXPECT_EQ(be16(f, 36), kMeshPort);
  EXPECT_EQ(f[42], 4) << "a transport message";
  EXPECT_EQ(a_->stats().tx_packets.load(), 1u);
  EXPECT_EQ(a_->stats().current_index.load(), keys_a_.local_index);

  b_->receive(kSiteWan, sent);
  EXPECT_EQ(b_->stats().rx_packets.load(), 1u);
  EXPECT_EQ(b_->stats().current_index.load(), keys_b_.local_index) << "confirmed";
  EXPECT_TRUE(b_->sent(kSiteLan).empty()) << "a keepalive delivers nothing";
}

TEST_F(LcoreTunnelsTest, APacketCrossesTheTunnelAsSentLessOneHop) {
  connect();
  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7")});
  const auto wire = a_->sent(kSiteWan);
  ASSERT_EQ(wire.size(), 1u);
  // 128 bytes of IP padded to 128, in 16 of header and 16 of tag, in UDP in IPv4.
  EXPECT_EQ(wire[0].size(), 14u + 20 + 8 + 16 + 128 + 16);
  b_->receive(kSiteWan, wire);
  const auto delivered = b_->sent(kSiteLan);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0], PacketBuilder()
                              .eth(kHostB, kB.lan_mac)
                              .ipv4("10.1.0.5", "10.2.0.7")
                              .ttl(62)
                              .udp(4000, 5000)
                              .payload(100)
                              .build())
      << "TTL: one hop at each site";
  EXPECT_EQ(b_->stats().rx_packets.load(), 2u);
  EXPECT_EQ(a_->stats().tx_packets.load(), 2u);

  // The same datagram again is a replay; a flipped bit does not authenticate.
  b_->receive(kSiteWan, wire);
  EXPECT_EQ(b_->drops(DropReason::kTunnelReplay), 1u);
  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7")});
  auto tampered = a_->sent(kSiteWan).at(0);
  tampered[tampered.size() - 20] ^= 1;
  b_->receive(kSiteWan, {tampered});
  EXPECT_EQ(b_->drops(DropReason::kTunnelBadTag), 1u);
  EXPECT_TRUE(b_->sent(kSiteLan).empty());
}

TEST_F(LcoreTunnelsTest, IPv4OverTheTunnelsMtuIsFragmentedBeforeSealing) {
  connect();
  // 2,000 bytes of IP without DF: two fragments of at most 1,420 bytes, each sealed alone.
  a_->receive(kSiteLan, {PacketBuilder()
                             .eth(kA.lan_mac, kHostA)
                             .ipv4("10.1.0.5", "10.2.0.7")
                             .udp(4000, 5000)
                             .payload(2000 - 28)
                             .build()});
  const auto wire = a_->sent(kSiteWan);
  ASSERT_EQ(wire.size(), 2u);
  for (const auto& f : wire) {
    EXPECT_LE(f.size() - 14, 1500u) << "each datagram fits the WAN link";
  }
  b_->receive(kSiteWan, wire);
  const auto delivered = b_->sent(kSiteLan);
  ASSERT_EQ(delivered.size(), 2u);
  size_t ip_bytes = 0;
  for (const auto& f : delivered) {
    EXPECT_LE(f.size() - 14, 1420u);
    ip_bytes += f.size() - 14 - 20;
  }
  EXPECT_EQ(ip_bytes, 2000u - 20) << "every byte of the datagram, in fragments";
  EXPECT_EQ(be16(delivered[0], 14 + 6) & 0x2000, 0x2000) << "more fragments";

  // With DF the sender hears the tunnel's MTU.
  a_->receive(kSiteLan, {PacketBuilder()
                             .eth(kA.lan_mac, kHostA)
                             .ipv4("10.1.0.5", "10.2.0.7", 0x4000)
                             .udp(4000, 5000)
                             .payload(2000 - 28)
                             .build()});
  const auto icmp = a_->sent(kSiteLan);
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].at(14 + 20), 3) << "destination unreachable";
  EXPECT_EQ(icmp[0].at(14 + 21), 4) << "fragmentation needed";
  EXPECT_EQ(be16(icmp[0], 14 + 20 + 6), 1420) << "the tunnel's MTU";
}

TEST_F(LcoreTunnelsTest, ASourceThePeerMayNotUseAndAnUnknownIndexAreDropped) {
  connect();
  // A routes anything for B's networks into the tunnel; B takes only A's allowed sources.
  a_->receive(kSiteLan, {lan_packet("10.9.0.1", "10.2.0.7")});
  b_->receive(kSiteWan, a_->sent(kSiteWan));
  EXPECT_EQ(b_->drops(DropReason::kTunnelSourceNotAllowed), 1u);
  EXPECT_TRUE(b_->sent(kSiteLan).empty());

  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7")});
  auto wire = a_->sent(kSiteWan).at(0);
  wire[42 + 4] ^= 0xff;  // the receiver index
  b_->receive(kSiteWan, {wire});
  EXPECT_EQ(b_->drops(DropReason::kTunnelNoSession), 1u);
}

TEST_F(LcoreTunnelsTest, PacketsWaitForASessionAndLeaveWhenItComes) {
  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7"), lan_packet("10.1.0.5", "10.2.0.8")});
  EXPECT_TRUE(a_->sent(kSiteWan).empty());
  EXPECT_EQ(a_->stats().staged.load(), 2u) << "the control thread sees them waiting";
  b_->install(keys_b_, true);
  a_->install(keys_a_, false);
  const auto wire = a_->sent(kSiteWan);
  ASSERT_EQ(wire.size(), 2u) << "the waiting packets, and no keepalive besides";
  EXPECT_EQ(a_->stats().staged.load(), 0u);
  b_->neighbour(kSiteLan, "10.2.0.8", kHostB);
  b_->receive(kSiteWan, wire);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 2u);
}

TEST_F(LcoreTunnelsTest, TooManyWaitingDropsTheOldest) {
  std::vector<std::vector<uint8_t>> frames;
  for (size_t k = 0; k < kMaxStagedPerPeer + 3; ++k) {
    frames.push_back(lan_packet("10.1.0.5", "10.2.0.7"));
    if (frames.size() == kBurstSize) {
      a_->receive(kSiteLan, frames);
      frames.clear();
    }
  }
  a_->receive(kSiteLan, frames);
  EXPECT_EQ(a_->stats().staged.load(), kMaxStagedPerPeer);
  EXPECT_EQ(a_->drops(DropReason::kTunnelStagedOverflow), 3u);
}

TEST_F(LcoreTunnelsTest, HandshakeMessagesGoToTheControlThreadWithTheirSource) {
  std::vector<uint8_t> initiation(wg::kInitiationSize, 0);
  initiation[0] = 1;
  const auto frame = PacketBuilder()
                         .eth(kB.wan_mac, "02:00:00:00:09:09")
                         .ipv4("198.51.100.9", "192.0.2.2")
                         .udp(40000, kMeshPort, false)
                         .raw(initiation)
                         .build();
  b_->receive(kSiteWan, {frame});
  MeshEvent e;
  ASSERT_TRUE(b_->channel().next_event(e));
  ASSERT_EQ(e.kind, MeshEvent::Kind::kHandshake);
  EXPECT_EQ(e.endpoint.host_port().to_string(), "198.51.100.9:40000");
  ASSERT_NE(e.packet, nullptr);
  EXPECT_EQ(test::bytes_of(e.packet), initiation) << "the message alone";
  rte_pktmbuf_free(e.packet);

  // Not ours (another port, another address) or not WireGuard: not taken.
  std::vector<uint8_t> junk(40, 7);
  b_->receive(kSiteWan, {PacketBuilder()
                             .eth(kB.wan_mac, "02:00:00:00:09:09")
                             .ipv4("198.51.100.9", "192.0.2.2")
                             .udp(40000, kMeshPort, false)
                             .raw(junk)
                             .build()});
  EXPECT_EQ(b_->drops(DropReason::kTunnelMalformed), 1u);
  EXPECT_FALSE(b_->channel().next_event(e));
}

TEST_F(LcoreTunnelsTest, TheSessionsADisplacedInstallLeavesAreHandedBack) {
  connect();
  MeshEvent e;
  while (a_->channel().next_event(e)) {
  }
  // Three more handshakes as initiator: the sessions displaced are kept for receiving, two at
  // most; the third install retires the one the peer is least likely to use (the oldest, as
  // B never sent on any).
  auto [a2, b2] = test::wg_session_pair();
  a_->install(a2, false);
  auto [a3, b3] = test::wg_session_pair();
  a_->install(a3, false);
  EXPECT_FALSE(a_->channel().next_event(e)) << "both kept";
  auto [a4, b4] = test::wg_session_pair();
  a_->install(a4, false);
  ASSERT_TRUE(a_->channel().next_event(e));
  ASSERT_EQ(e.kind, MeshEvent::Kind::kRetired);
  ASSERT_NE(e.session, nullptr);
  EXPECT_EQ(e.session->keys().local_index, keys_a_.local_index);
  delete e.session;
  a_->command({.kind = MeshCommand::Kind::kClear, .slot = 0});
  int retired = 0;
  while (a_->channel().next_event(e)) {
    EXPECT_EQ(e.kind, MeshEvent::Kind::kRetired);
    delete e.session;
    ++retired;
  }
  EXPECT_EQ(retired, 3) << "the current one and the two kept";
  EXPECT_EQ(a_->stats().current_index.load(), 0u);
}

TEST_F(LcoreTunnelsTest, ACrossedRekeyKeepsTheSessionThePeerStillSendsOn) {
  // Both sides initiated at once: A answered B's initiation (an unconfirmed next) and then
  // its own completed. B may still be on the session it had (A's current until now) until
  // its own handshake completes: A keeps it as the spare and opens what comes on it.
  connect();
  auto [i2, r2] = test::wg_session_pair();
  auto [i3, r3] = test::wg_session_pair();
  a_->install(r2, /*as_next=*/true);
  a_->install(i3, /*as_next=*/false);
  b_->receive(kSiteLan, {PacketBuilder()
                             .eth(kB.lan_mac, kHostB)
                             .ipv4("10.2.0.7", "10.1.0.5")
                             .udp(5000, 4000)
                             .payload(10)
                             .build()});
  a_->receive(kSiteWan, b_->sent(kSiteWan));
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u) << "opened on the spare";
  EXPECT_EQ(a_->drops(DropReason::kTunnelNoSession), 0u);
  MeshEvent e;
  while (a_->channel().next_event(e)) {
    EXPECT_NE(e.kind, MeshEvent::Kind::kRetired) << "nothing the peer may use is dropped";
    delete e.session;
  }
  // A's next handshake: of the three sessions it no longer sends on, the answer B never used
  // goes; the one B sent on last stays.
  auto [i4, r4] = test::wg_session_pair();
  a_->install(i4, /*as_next=*/false);
  ASSERT_TRUE(a_->channel().next_event(e));
  ASSERT_EQ(e.kind, MeshEvent::Kind::kRetired);
  EXPECT_EQ(e.session->keys().local_index, r2.local_index);
  delete e.session;
  EXPECT_FALSE(a_->channel().next_event(e));
}

TEST_F(LcoreTunnelsTest, WhatTheOtherLcoreGetsIsPassedToThePeersOwner) {
  // B has two lcores; its peer (slot 0) and that peer's session (index 6: even) are lcore 0's.
  Site b2("tb2", kB, /*publish=*/true, /*lcores=*/2);
  b2.neighbour(kSiteWan, "192.0.2.1", kA.wan_mac);
  b2.neighbour(kSiteLan, "10.2.0.7", kHostB);
  b2.endpoint("192.0.2.1:51820");
  ASSERT_EQ(wg::shard_of_index(keys_b_.local_index, 2), 0u);
  b2.install(keys_b_, /*as_next=*/true);
  a_->install(keys_a_, /*as_next=*/false);
  b2.receive(kSiteWan, a_->sent(kSiteWan), /*lcore=*/1);  // A's keepalive, by lcore 1
  EXPECT_EQ(b2.stats().current_index.load(), keys_b_.local_index) << "confirmed by lcore 0";

  // A datagram lcore 1 receives is opened by lcore 0 and delivered.
  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7")});
  b2.receive(kSiteWan, a_->sent(kSiteWan), 1);
  EXPECT_EQ(b2.sent(kSiteLan).size(), 1u);
  EXPECT_EQ(b2.stats().rx_packets.load(), 2u);

  // A packet to the peer that lcore 1 routes is sealed by lcore 0, on the one send counter.
  b2.receive(kSiteLan,
             {PacketBuilder()
                  .eth(kB.lan_mac, kHostB)
                  .ipv4("10.2.0.7", "10.1.0.5")
                  .udp(5000, 4000)
                  .payload(100)
                  .build()},
             1);
  const auto wire = b2.sent(kSiteWan);
  ASSERT_EQ(wire.size(), 1u);
  a_->receive(kSiteWan, wire);
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u);
  EXPECT_EQ(b2.stats().tx_packets.load(), 1u);

  // An index of lcore 1's (odd) goes there only if it may be live: forged, it dies where it
  // lands; one the control thread counted reaches lcore 1, which has no such session.
  a_->receive(kSiteLan, {lan_packet("10.1.0.5", "10.2.0.7")});
  auto odd = a_->sent(kSiteWan).at(0);
  odd[42 + 4] ^= 1;  // the receiver index's low bit
  b2.receive(kSiteWan, {odd}, 0);
  EXPECT_EQ(b2.drops(DropReason::kTunnelNoSession, 0), 1u);
  EXPECT_EQ(b2.drops(DropReason::kTunnelNoSession, 1), 0u);
  b2.tables().indexes().add(keys_b_.local_index ^ 1);
  b2.receive(kSiteWan, {odd}, 0);
  EXPECT_EQ(b2.drops(DropReason::kTunnelNoSession, 1), 1u);

  // The owner's inbox holds 63 here: past that, lcore 1 drops and counts; the rest arrive.
  std::vector<std::vector<uint8_t>> sealed;
  for (int burst = 0; burst < 3; ++burst) {
    std::vector<std::vector<uint8_t>> frames(kBurstSize, lan_packet("10.1.0.5", "10.2.0.7"));
    a_->receive(kSiteLan, frames);
    for (auto& f : a_->sent(kSiteWan)) {
      sealed.push_back(std::move(f));
    }
  }
  ASSERT_EQ(sealed.size(), 3 * kBurstSize);
  for (size_t at = 0; at < sealed.size(); at += kBurstSize) {
    b2.run(kSiteWan,
           {sealed.begin() + static_cast<long>(at),
            sealed.begin() + static_cast<long>(at + kBurstSize)},
           1);
  }
  EXPECT_EQ(b2.drops(DropReason::kTunnelHandoffFull, 1), 3 * kBurstSize - 63);
  b2.poll();
  EXPECT_EQ(b2.sent(kSiteLan).size(), 63u);
}

TEST_F(LcoreTunnelsTest, TwoLcoresOnTwoThreadsLoseNothingButWhatTheInboxRefuses) {
  // Lcore 1 receives on a thread of its own while lcore 0 takes its inbox on this one, as
  // vigil-dp runs them: every datagram is delivered once, in order (no replay), or counted.
  Site b2("tb3", kB, /*publish=*/true, /*lcores=*/2);
  b2.neighbour(kSiteWan, "192.0.2.1", kA.wan_mac);
  b2.neighbour(kSiteLan, "10.2.0.7", kHostB);
  b2.endpoint("192.0.2.1:51820");
  b2.install(keys_b_, /*as_next=*/true);
  a_->install(keys_a_, /*as_next=*/false);
  b2.receive(kSiteWan, a_->sent(kSiteWan), 1);
  std::vector<std::vector<std::vector<uint8_t>>> bursts;
  for (int k = 0; k < 40; ++k) {
    a_->receive(kSiteLan,
                std::vector<std::vector<uint8_t>>(kBurstSize, lan_packet("10.1.0.5", "10.2.0.7")));
    bursts.push_back(a_->sent(kSiteWan));
    ASSERT_EQ(bursts.back().size(), kBurstSize);
  }
  std::atomic<bool> done{false};
  std::thread lcore1([&] {
    for (const auto& b : bursts) {
      b2.run(kSiteWan, b, 1);
    }
    done.store(true);
  });
  while (!done.load()) {
    b2.poll_lcore(0);
  }
  lcore1.join();
  for (int k = 0; k < 64; ++k) {
    b2.poll_lcore(0);
  }
  const size_t delivered = b2.sent(kSiteLan).size();
  EXPECT_EQ(delivered + b2.drops(DropReason::kTunnelHandoffFull, 1), 40 * kBurstSize);
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(b2.drops(DropReason::kTunnelReplay), 0u);
  EXPECT_EQ(b2.stats().rx_packets.load(), delivered + 1) << "and the keepalive";
}

}  // namespace
}  // namespace vigil::dp

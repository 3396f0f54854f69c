// Two sites' lcores, each with the real pipeline (parse → mesh receive → admit → route → mesh
// send → neighbour) over real mbufs and FIBs, joined by a wire the test carries frames over:
// what site A seals to B arrives at B's LAN host exactly as sent, less one TTL; replays,
// tampering, foreign sources and unknown indexes are dropped by name; packets wait for a
// session and leave once it comes; handshake messages reach the control thread with their
// source; displaced sessions are handed back to be freed.
#include "dataplane/mesh/lcore_tunnels.h"

#include <rte_ip.h>

#include <memory>

#include "dataplane/mesh/mesh_stages.h"
#include "sdwan/wireguard/messages.h"
#include "tests/support/wg_session_pair.h"
#include "tests/unit/dataplane/pipeline/forwarding_fixture.h"

namespace vigil::dp {
namespace {

constexpr PortId kSiteLan = 0, kSiteWan = 1, kTunnel = 2;
constexpr uint16_t kMeshPort = 51820;

struct SiteAddresses {
  const char* lan_mac;
  const char* wan_mac;
  const char* lan;        // the box on its LAN
  const char* lan_net;    // its LAN
  const char* wan;        // the box on the internet
  const char* other_net;  // the other site's LAN, behind the tunnel
};

void set_v4(PortInfo& p, const char* a) {
  p.has_v4 = true;
  std::memcpy(p.v4, ip(a).bytes.data(), 4);
}

// One site: a pipeline as vigil-dp builds it, a tunnel table and an lcore's tunnels.
class Site {
 public:
  Site(const std::string& name, const SiteAddresses& a) : tables_(readers_) {
    auto nt = NeighbourTable::create(name, 256, readers_);
    EXPECT_TRUE(nt) << nt.error();
    neighbours_ = std::move(*nt);
    auto t = RouteTable::create(
        name,
        {.fib = {.max_routes4 = 64, .max_routes6 = 64, .tbl8_groups4 = 16, .tbl8_groups6 = 16}},
        readers_, neighbours_.get());
    EXPECT_TRUE(t) << t.error();
    routes_ = std::move(*t);
    std::vector<PortInfo> ports(3);
    ports[kSiteLan].mac = mac(a.lan_mac);
    ports[kSiteWan].mac = mac(a.wan_mac);
    ports[kTunnel].mtu = 1420;
    set_v4(ports[kSiteLan], a.lan);
    set_v4(ports[kSiteWan], a.wan);
    const std::string wan_host = std::string(a.wan) + "/32";
    const std::string lan_host = std::string(a.lan) + "/32";
    const Status applied = routes_->apply({{net(a.lan_net), connected(kSiteLan)},
                                {net(lan_host.c_str()), make_group(RouteAction::kLocal)},
                                {net("192.0.2.0/24"), connected(kSiteWan)},
                                {net(wan_host.c_str()), make_group(RouteAction::kLocal)},
                                {net(a.other_net), connected(kTunnel)}},
                               ports);
    EXPECT_TRUE(applied) << applied.error();
    auto channel = MeshChannel::create(name, 1024);
    EXPECT_TRUE(channel) << channel.error();
    channel_ = std::move(*channel);
    tunnels_ = std::make_unique<LcoreTunnels>(*routes_, tables_, *channel_, stats_.data(),
                                              counters_, test::EalEnvironment::pool());
    pipeline_ = std::make_unique<Pipeline>(sink_, counters_);
    auto icmp = std::make_shared<IcmpResponder>(counters_, 7, IcmpLimits{}, rte_get_tsc_hz());
    pipeline_->add(std::make_unique<ParseStage>());
    pipeline_->add(std::make_unique<MeshReceiveStage>(*tunnels_));
    pipeline_->add(std::make_unique<AdmitStage>(*routes_, icmp));
    pipeline_->add(std::make_unique<RouteStage>(*routes_, icmp, 7));
    pipeline_->add(std::make_unique<MeshSendStage>(*tunnels_));
    pipeline_->add(std::make_unique<NeighbourStage>(
        *routes_, *neighbours_, sink_, counters_, HoldLimits{.hold_ms = 50, .recheck_us = 0},
        rte_get_tsc_hz()));
    auto table = std::make_unique<TunnelTable>();
    table->listen_port = kMeshPort;
    table->tunnel_port = kTunnel;
    table->active[0] = true;
    table->allowed.insert(*net::Prefix::parse_network(a.other_net), 0);
    tables_.publish(std::move(table));
  }
  ~Site() {
    tunnels_.reset();  // hands its sessions to the channel, which frees them
  }

  void neighbour(PortId port, const char* address, const char* m) {
    ASSERT_TRUE(neighbours_->set(NeighbourKey::from(port, ip(address)), mac(m)));
  }
  void command(const MeshCommand& c) {
    ASSERT_TRUE(channel_->command(c));
    Burst scratch;
    pipeline_->poll(0, scratch);
  }
  void install(wg::SessionKeys keys, bool as_next) {
    command({.kind = MeshCommand::Kind::kInstall,
             .as_next = as_next,
             .slot = 0,
             .made_ns = now_ns(),
             .session = new wg::TransportSession(keys)});
  }
  void endpoint(const char* text) {
    command({.kind = MeshCommand::Kind::kEndpoint,
             .slot = 0,
             .endpoint = TunnelEndpoint::from(*net::HostPort::parse(text))});
  }
  // Frames received on `port`, as one burst; then what the lcore made.
  void receive(PortId port, const std::vector<std::vector<uint8_t>>& frames) {
    Burst burst;
    burst.reset(port, static_cast<uint16_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i) {
      burst.packets[i] = test::make_mbuf(frames[i]);
    }
    pipeline_->run(burst);
    Burst scratch;
    pipeline_->poll(0, scratch);
  }
  // What left by `port` since the last call.
  std::vector<std::vector<uint8_t>> sent(PortId port) {
    std::vector<std::vector<uint8_t>> out;
    for (auto& [p, frame] : sink_.sent) {
      if (p == port) {
        out.push_back(frame);
      }
    }
    sink_.sent.clear();
    return out;
  }
  uint64_t drops(DropReason r) const { return counters_.drops[static_cast<size_t>(r)]; }
  const TunnelPeerStats& stats() const { return stats_[0]; }
  MeshChannel& channel() { return *channel_; }
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  NoReaders readers_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::unique_ptr<RouteTable> routes_;
  TunnelTables tables_;
  std::unique_ptr<MeshChannel> channel_;
  std::array<TunnelPeerStats, kMaxMeshPeers> stats_{};
  LcoreCounters counters_;
  CaptureSink sink_;
  std::unique_ptr<LcoreTunnels> tunnels_;
  std::unique_ptr<Pipeline> pipeline_;
};

const SiteAddresses kA{"02:00:00:00:0a:00", "02:00:00:00:0a:01", "10.1.0.1",
                       "10.1.0.0/24",       "192.0.2.1",         "10.2.0.0/16"};
const SiteAddresses kB{"02:00:00:00:0b:00", "02:00:00:00:0b:01", "10.2.0.1",
                       "10.2.0.0/24",       "192.0.2.2",         "10.1.0.0/16"};
const char* const kHostA = "02:00:00:00:01:05";
const char* const kHostB = "02:00:00:00:02:07";

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
  // Two more handshakes as initiator: the first current becomes the previous, then goes.
  auto [a2, b2] = test::wg_session_pair();
  a_->install(a2, false);
  EXPECT_FALSE(a_->channel().next_event(e)) << "kept as the previous session";
  auto [a3, b3] = test::wg_session_pair();
  a_->install(a3, false);
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
  EXPECT_EQ(retired, 2);
  EXPECT_EQ(a_->stats().current_index.load(), 0u);
}

}  // namespace
}  // namespace vigil::dp

// Two sites' control threads and lcores against each other, over a wire the test carries
// frames on: a packet that finds no session starts a handshake, waits for it and arrives; the
// responder's session is confirmed by the initiator's first message; the status says who, where
// and how much; a roaming peer is followed; a flood of initiations beyond the cookie threshold
// is answered with cookies while the tunnel goes on carrying packets; a removed peer is gone
// from the lcore and from the table.
#include "dataplane/mesh/mesh_control.h"

#include <atomic>
#include <thread>

#include "common/key_base64.h"
#include "sdwan/wireguard/index_shard.h"
#include "sdwan/wireguard/messages.h"
#include "tests/unit/dataplane/mesh/mesh_site.h"

namespace vigil::dp {
namespace {

using namespace test_mesh;
using std::chrono::milliseconds;
using std::chrono::seconds;

class MeshControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    a_ = std::make_unique<Site>("ca" + std::to_string(n), kA, /*publish=*/false, a_lcores());
    b_ = std::make_unique<Site>("cb" + std::to_string(n++), kB, /*publish=*/false);
    a_->neighbour(kSiteWan, "192.0.2.2", kB.wan_mac);
    b_->neighbour(kSiteWan, "192.0.2.1", kA.wan_mac);
    a_->neighbour(kSiteLan, "10.1.0.5", kHostA);
    b_->neighbour(kSiteLan, "10.2.0.7", kHostB);
    key_a_ = wg::generate_keypair();
    key_b_ = wg::generate_keypair();
    std::vector<MeshChannel*> a_channels;
    for (unsigned l = 0; l < a_lcores(); ++l) {
      a_channels.push_back(&a_->channel(l));
    }
    control_a_ = std::make_unique<MeshControl>(a_channels, a_->tables(), a_->all_stats(),
                                               test::EalEnvironment::pool(), kTunnel, 1420);
    control_b_ =
        std::make_unique<MeshControl>(std::vector<MeshChannel*>{&b_->channel()}, b_->tables(),
                                      b_->all_stats(), test::EalEnvironment::pool(), kTunnel, 1420);
    plan_a_ = plan(key_a_.private_key, "b", key_b_.public_key, "192.0.2.2:51820", "10.2.0.0/16");
    plan_b_ = plan(key_b_.private_key, "a", key_a_.public_key, "192.0.2.1:51820", "10.1.0.0/16");
    control_a_->apply(plan_a_, 1420);
    control_b_->apply(plan_b_, 1420);
  }
  void TearDown() override {
    // The lcores go first (their sessions handed back), then the controls free them.
    for (auto* c : {control_a_.get(), control_b_.get()}) {
      if (c != nullptr) {
        c->tick(now_, wall_);
      }
    }
    control_a_.reset();
    control_b_.reset();
  }

  // Site A's forwarding lcores: with two, what A receives comes in by the one not owning B.
  virtual unsigned a_lcores() const { return 1; }

  static MeshPlan plan(const wg::Key& own, const char* name, const wg::Key& theirs,
                       const char* endpoint, const char* allowed) {
    MeshPlan p{.private_key = own, .cookie_threshold = 1000};
    MeshPeerPlan peer{.name = name, .public_key = theirs};
    const auto hp = *net::HostPort::parse(endpoint);
    peer.endpoints.push_back({hp.address.to_string(), hp.port});
    peer.allowed_ips.push_back(*net::Prefix::parse_network(allowed));
    p.peers.push_back(peer);
    return p;
  }

  // Both sides' control threads and lcores, and the wire between them, until nothing moves;
  // the clock advances 20 ms a round, as vigil-dp's tick.
  void run(int rounds = 8) {
    for (int r = 0; r < rounds; ++r) {
      control_a_->tick(now_, wall_);
      control_b_->tick(now_, wall_);
      a_->poll();
      b_->poll();
      for (int hop = 0; hop < 4; ++hop) {
        auto from_a = a_->sent(kSiteWan);
        auto from_b = b_->sent(kSiteWan);
        if (!from_a.empty()) {
          b_->receive(kSiteWan, from_a);
        }
        if (!from_b.empty()) {
          a_->receive(kSiteWan, from_b, a_lcores() - 1);
        }
      }
      now_ += milliseconds(20);
      wall_ += milliseconds(20);
    }
  }
  static std::vector<uint8_t> lan_packet(const char* dst) {
    return PacketBuilder()
        .eth(kA.lan_mac, kHostA)
        .ipv4("10.1.0.5", dst)
        .udp(4000, 5000)
        .payload(100)
        .build();
  }

  // From B's LAN host to A's.
  static std::vector<uint8_t> b_lan_packet() {
    return PacketBuilder()
        .eth(kB.lan_mac, kHostB)
        .ipv4("10.2.0.7", "10.1.0.5")
        .udp(5000, 4000)
        .payload(10)
        .build();
  }

  std::unique_ptr<Site> a_, b_;
  wg::KeyPair key_a_{}, key_b_{};
  MeshPlan plan_a_, plan_b_;
  std::unique_ptr<MeshControl> control_a_, control_b_;
  MeshControl::Clock::time_point now_ = MeshControl::Clock::now();
  wg::WallClock::time_point wall_ = wg::WallClock::now();
};

// Both sides given their one WAN link: each probes its path to the other (its endpoint is on
// the link's subnet: no gateway), the path comes up at both ends, the control thread records
// the change and shows it, and the data takes the path. The lcores probe on the real clock:
// the loop sleeps between rounds.
TEST_F(MeshControlTest, APathIsProbedAndUpAtBothEndsAndShown) {
  const auto link = [](const char* address) {
    return WanLink{.name = "wan1",
                   .port = kSiteWan,
                   .v4 = WanLinkFamily{.source = *net::IpAddress::parse(address),
                                       .subnets = {*net::Prefix::parse_network("192.0.2.0/24")}}};
  };
  plan_a_.links = {link("192.0.2.1")};
  plan_b_.links = {link("192.0.2.2")};
  control_a_->apply(plan_a_, 1420);
  control_b_->apply(plan_b_, 1420);
  const auto path_of = [](MeshControl& c) {
    const auto peers = c.status().peers;
    return peers.empty() || peers[0].paths.empty() ? MeshPathStatus{} : peers[0].paths[0];
  };
  for (int round = 0; round < 300; ++round) {
    run(1);
    if (path_of(*control_a_).state == paths::PathState::kUp &&
        path_of(*control_b_).state == paths::PathState::kUp && path_of(*control_a_).changes > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const MeshPathStatus at_a = path_of(*control_a_);
  EXPECT_EQ(at_a.link, "wan1");
  EXPECT_EQ(at_a.endpoint, "192.0.2.2:51820");
  EXPECT_TRUE(at_a.measured);
  EXPECT_EQ(at_a.state, paths::PathState::kUp);
  EXPECT_TRUE(at_a.active);
  ASSERT_TRUE(at_a.last_change.has_value());
  EXPECT_EQ(at_a.last_change->cause, paths::Cause::kFirstHeard);
  EXPECT_EQ(path_of(*control_b_).state, paths::PathState::kUp);
  EXPECT_EQ(a_->drops(DropReason::kPathProbeUnmatched), 0u);

  // The data takes it (sealed toward its endpoint out of its link).
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u);

  // Not probed any more (probe_interval 0): the paths go, and the traffic follows the routes.
  plan_a_.peers[0].probe_interval_ms = 0;
  control_a_->apply(plan_a_, 1420);
  run(2);
  EXPECT_TRUE(control_a_->status().peers.at(0).paths.empty());
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u);
}

// An operator's choice of path: checked against the peer's paths (the error names them), put
// in the table for the lcore, shown, and given back to the probes with auto.
TEST_F(MeshControlTest, APathPreferredByHandIsCheckedPublishedAndUndone) {
  plan_a_.links = {
      WanLink{.name = "wan1",
              .port = kSiteWan,
              .v4 = WanLinkFamily{.source = *net::IpAddress::parse("192.0.2.1"),
                                  .subnets = {*net::Prefix::parse_network("192.0.2.0/24")}}}};
  control_a_->apply(plan_a_, 1420);
  const auto preferred = [&] { return a_->tables().get()->paths.at(0).preferred; };
  EXPECT_EQ(preferred(), -1);
  const Status no_peer = control_a_->prefer("z", std::string("wan1"), std::nullopt);
  ASSERT_FALSE(no_peer.ok());
  EXPECT_EQ(no_peer.error(), "no mesh peer named \"z\"");
  const Status no_link = control_a_->prefer("b", std::string("wan9"), std::nullopt);
  ASSERT_FALSE(no_link.ok());
  EXPECT_EQ(no_link.error(), "peer b has no path over wan9 (its paths: wan1 192.0.2.2:51820)");
  EXPECT_FALSE(control_a_->prefer("b", std::string("wan1"), std::string("192.0.2.9:51820")).ok());

  ASSERT_TRUE(control_a_->prefer("b", std::string("wan1"), std::nullopt).ok());
  EXPECT_EQ(preferred(), 0);
  EXPECT_EQ(control_a_->status().peers.at(0).preferred, "wan1 192.0.2.2:51820");
  control_a_->apply(plan_a_, 1420);
  EXPECT_EQ(preferred(), 0) << "kept across a commit";
  ASSERT_TRUE(control_a_->prefer("b", std::nullopt, std::nullopt).ok());
  EXPECT_EQ(preferred(), -1);
  EXPECT_EQ(control_a_->status().peers.at(0).preferred, "");
}

TEST_F(MeshControlTest, AFirstPacketMakesTheHandshakeAndArrives) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  const auto delivered = b_->sent(kSiteLan);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].size(), 14u + 128);

  const MeshStatus sa = control_a_->status();
  EXPECT_EQ(sa.public_key, key_a_.public_key);
  ASSERT_EQ(sa.peers.size(), 1u);
  const MeshPeerStatus& b_at_a = sa.peers[0];
  EXPECT_EQ(b_at_a.name, "b");
  EXPECT_TRUE(b_at_a.has_session);
  EXPECT_TRUE(b_at_a.latest_handshake.has_value());
  EXPECT_EQ(b_at_a.endpoint->to_string(), "192.0.2.2:51820");
  EXPECT_EQ(b_at_a.handshakes_sent, 1u);
  EXPECT_EQ(b_at_a.tx_packets, 1u) << "the packet that waited, and no keepalive besides";

  const MeshPeerStatus a_at_b = control_b_->status().peers.at(0);
  EXPECT_TRUE(a_at_b.has_session) << "confirmed by the packet";
  EXPECT_TRUE(a_at_b.latest_handshake.has_value());
  EXPECT_EQ(a_at_b.handshakes_received, 1u);
  EXPECT_EQ(a_at_b.rx_packets, 1u);

  // And back the other way on the same session, no new handshake.
  b_->receive(kSiteLan, {b_lan_packet()});
  run(2);
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u);
  EXPECT_EQ(control_b_->status().peers.at(0).handshakes_sent, 0u);
}

// A rotation: A's key changes in place and its session goes on; B, told the new key, makes a
// handshake with it at once; both previous keys go when the grace ends.
TEST_F(MeshControlTest, ARotatedKeyKeepsTheSessionAndIsProvedAtOnce) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  ASSERT_EQ(b_->sent(kSiteLan).size(), 1u);
  const int64_t until = std::chrono::duration_cast<seconds>(wall_.time_since_epoch()).count() + 60;
  const wg::KeyPair rotated = wg::generate_keypair();
  plan_a_.private_key = rotated.private_key;
  plan_a_.previous_private_key = key_a_.private_key;
  plan_a_.previous_key_until = until;
  control_a_->apply(plan_a_, 1420);
  MeshStatus sa = control_a_->status();
  EXPECT_EQ(sa.public_key, rotated.public_key);
  EXPECT_EQ(sa.previous_public_key, key_a_.public_key);
  EXPECT_EQ(sa.previous_key_until, until);
  EXPECT_TRUE(sa.peers.at(0).has_session) << "kept through the change";
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u) << "carried by the session from before";
  EXPECT_EQ(control_a_->status().peers.at(0).handshakes_sent, 1u) << "no handshake needed";

  plan_b_.peers[0].public_key = rotated.public_key;
  plan_b_.peers[0].previous_public_key = key_a_.public_key;
  plan_b_.peers[0].previous_key_until = until;
  control_b_->apply(plan_b_, 1420);
  run();
  const MeshPeerStatus a_at_b = control_b_->status().peers.at(0);
  EXPECT_EQ(a_at_b.public_key, rotated.public_key);
  EXPECT_EQ(a_at_b.previous_public_key, key_a_.public_key);
  EXPECT_EQ(a_at_b.handshakes_sent, 1u) << "a handshake with the new key at once";
  EXPECT_EQ(control_a_->status().peers.at(0).handshakes_received, 2u)
      << "B's response to the first, its initiation to the new key now";
  EXPECT_TRUE(control_a_->status().rejects.empty());
  b_->receive(kSiteLan, {b_lan_packet()});
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u);

  // The grace over: neither side takes the old key any more.
  wall_ += seconds(61);
  run(1);
  EXPECT_FALSE(control_a_->status().previous_public_key.has_value());
  EXPECT_FALSE(control_b_->status().peers.at(0).previous_public_key.has_value());
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u) << "still carried";
}

// A key changed by hand (no previous key named: another box under the name) is not a
// rotation: the old key's session goes with it. And a mesh stopped during a grace stays
// stopped when the grace ends.
TEST_F(MeshControlTest, AKeyChangedByHandStartsOverAndAStopDuringAGraceHolds) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  ASSERT_TRUE(control_b_->status().peers.at(0).has_session);
  plan_b_.peers[0].public_key = wg::generate_keypair().public_key;
  control_b_->apply(plan_b_, 1420);
  EXPECT_FALSE(control_b_->status().peers.at(0).has_session);

  plan_a_.previous_private_key = wg::generate_keypair().private_key;
  plan_a_.previous_key_until =
      std::chrono::duration_cast<seconds>(wall_.time_since_epoch()).count() + 5;
  control_a_->apply(plan_a_, 1420);
  ASSERT_TRUE(control_a_->status().previous_public_key.has_value());
  control_a_->stop();
  wall_ += seconds(10);
  control_a_->tick(now_, wall_);
  EXPECT_TRUE(control_a_->status().peers.empty());
}

TEST_F(MeshControlTest, AnAnsweredDataPacketGetsAKeepaliveAfterTenSeconds) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  const uint64_t before = control_b_->status().peers.at(0).tx_packets;
  now_ += seconds(11);
  wall_ += seconds(11);
  run(2);
  EXPECT_EQ(control_b_->status().peers.at(0).tx_packets, before + 1)
      << "B received data and sent nothing: KEEPALIVE_TIMEOUT";
}

TEST_F(MeshControlTest, APeerThatMovesIsFollowed) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  auto wire = a_->sent(kSiteWan).at(0);
  // A's packets now come from another address and port (its NAT rebound).
  wire[26 + 3] = 9;                  // source 192.0.2.9
  wire[34] = 0x9c, wire[35] = 0x40;  // source port 40000
  wire[24] = wire[25] = 0;           // IPv4 checksum again
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(wire.data() + 14, 20));
  std::memcpy(wire.data() + 24, &sum, 2);
  b_->neighbour(kSiteWan, "192.0.2.9", kA.wan_mac);
  b_->receive(kSiteWan, {wire});
  run(1);
  EXPECT_EQ(control_b_->status().peers.at(0).endpoint->to_string(), "192.0.2.9:40000");
}

TEST_F(MeshControlTest, AFloodOfInitiationsGetsCookiesAndTheTunnelKeepsCarrying) {
  plan_b_.cookie_threshold = 5;
  control_b_->apply(plan_b_, 1420);
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  ASSERT_EQ(b_->sent(kSiteLan).size(), 1u);
  // Initiations from a forger that knows B's public key (mac1 right) at 50 a tick.
  wg::Handshaker forger(wg::generate_keypair().private_key, 1000);
  const wg::PeerId b_at_forger = *forger.add_peer(key_b_.public_key, {});
  for (int r = 0; r < 5; ++r) {
    std::vector<std::vector<uint8_t>> flood;
    for (int k = 0; k < 30; ++k) {
      const auto init = *forger.initiate(b_at_forger, now_, wall_);
      flood.push_back(PacketBuilder()
                          .eth(kB.wan_mac, "02:00:00:00:09:09")
                          .ipv4("198.51.100.9", "192.0.2.2")
                          .udp(static_cast<uint16_t>(1000 + k), kMeshPort, false)
                          .raw(std::vector<uint8_t>(init.begin(), init.end()))
                          .build());
    }
    b_->receive(kSiteWan, flood);
    a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
    run(1);
  }
  EXPECT_EQ(b_->sent(kSiteLan).size(), 5u) << "established traffic went on";
  const MeshStatus sb = control_b_->status();
  EXPECT_GT(sb.rejects.at("cookie_sent"), 100u);
  // A DH only for what came before the threshold: past it, cookies, which cost a MAC.
  EXPECT_LE(sb.rejects.at("unknown_peer"), 5u);
  EXPECT_TRUE(sb.under_load);
}

TEST_F(MeshControlTest, EndpointsByNameAreResolvedOffTheThreadAndAFailureIsShown) {
  std::atomic<int> lookups{0};
  MeshControl control({&a_->channel()}, a_->tables(), a_->all_stats(), test::EalEnvironment::pool(),
                      kTunnel, 1420, [&](const std::string& name) -> Expected<net::IpAddress> {
                        ++lookups;
                        if (name == "b.example.net") {
                          return *net::IpAddress::parse("192.0.2.2");
                        }
                        return fail(name + " does not resolve: Name or service not known");
                      });
  MeshPlan p = plan_a_;
  p.resolve_interval = 5;
  p.peers[0].endpoints = {{"nowhere.example.net", 51820}, {"b.example.net", 51820}};
  control_a_.reset();  // one control per lcore
  control.apply(p, 1420);
  const auto status_until = [&](auto done) {
    for (int k = 0; k < 200 && !done(control.status().peers.at(0)); ++k) {
      control.tick(now_, wall_);
      std::this_thread::sleep_for(milliseconds(5));
    }
    return control.status().peers.at(0);
  };
  auto peer = status_until([](const MeshPeerStatus& s) { return !s.endpoint_problem.empty(); });
  EXPECT_EQ(peer.endpoint_problem,
            "nowhere.example.net does not resolve: Name or service not known");
  EXPECT_FALSE(peer.endpoint.has_value());
  // A name that does not resolve gives way to the next endpoint.
  peer = status_until([](const MeshPeerStatus& s) { return s.endpoint.has_value(); });
  ASSERT_TRUE(peer.endpoint.has_value());
  EXPECT_EQ(peer.endpoint->to_string(), "192.0.2.2:51820") << "the name that resolves";
  // Looked up again every resolve_interval.
  const int before = lookups.load();
  now_ += seconds(6);
  status_until([&](const MeshPeerStatus&) { return lookups.load() > before; });
  EXPECT_GT(lookups.load(), before);
  control.tick(now_, wall_);
}

TEST_F(MeshControlTest, AnUnansweredHandshakeTriesTheNextEndpoint) {
  // B's first address answers nothing (a WAN link that is down); its second is B.
  plan_a_.peers[0].endpoints.insert(plan_a_.peers[0].endpoints.begin(), {"192.0.2.99", 51820});
  control_a_->apply(plan_a_, 1420);
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(control_a_->status().peers.at(0).endpoint->to_string(), "192.0.2.99:51820");
  EXPECT_TRUE(b_->sent(kSiteLan).empty());
  now_ += seconds(6);  // REKEY_TIMEOUT and its jitter: the retry goes by the next endpoint
  run();
  EXPECT_EQ(control_a_->status().peers.at(0).endpoint->to_string(), "192.0.2.2:51820");
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u) << "the packet that waited arrives";
}

TEST_F(MeshControlTest, AfterItsKeysAreZeroedAnIdleTunnelStillCarries) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  ASSERT_EQ(b_->sent(kSiteLan).size(), 1u);
  // 3 × REJECT_AFTER_TIME without a handshake: every key is forgotten, the endpoint is not.
  now_ += seconds(600);
  wall_ += seconds(600);
  run(2);
  EXPECT_FALSE(control_a_->status().peers.at(0).has_session);
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u) << "a new handshake, by the endpoint kept";
  EXPECT_EQ(a_->drops(DropReason::kTunnelNoEndpoint), 0u);
}

TEST_F(MeshControlTest, APersistentKeepalivePeerKeepsASessionWithoutTraffic) {
  plan_a_.peers[0].persistent_keepalive = 25;
  control_a_->apply(plan_a_, 1420);
  run();
  EXPECT_TRUE(control_a_->status().peers.at(0).has_session) << "made unasked";
  const uint64_t first = control_a_->status().peers.at(0).handshakes_sent;
  // Past REJECT_AFTER_TIME with nothing but keepalives: a new session, as wg makes one.
  for (int k = 0; k < 10; ++k) {
    now_ += seconds(25);
    wall_ += seconds(25);
    run(2);
  }
  const MeshPeerStatus peer = control_a_->status().peers.at(0);
  EXPECT_TRUE(peer.has_session);
  EXPECT_GT(peer.handshakes_sent, first);
}

TEST_F(MeshControlTest, WhatWaitedForAHandshakeThatGaveUpIsDropped) {
  plan_a_.peers[0].endpoints = {{"192.0.2.99", 51820}};  // answers nothing
  control_a_->apply(plan_a_, 1420);
  a_->receive(kSiteLan, {lan_packet("10.2.0.7"), lan_packet("10.2.0.7")});
  run(2);
  EXPECT_EQ(a_->stats().staged.load(), 2u);
  for (int k = 0; k < 20; ++k) {  // REKEY_ATTEMPT_TIME (90 s) of retries every 5 s
    now_ += seconds(6);
    run(1);
  }
  EXPECT_EQ(a_->stats().staged.load(), 0u);
  EXPECT_EQ(a_->drops(DropReason::kTunnelHandshakeFailed), 2u);
}

TEST_F(MeshControlTest, ARemovedPeerIsGoneFromTheLcoreAndTheTable) {
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  run();
  plan_a_.peers.clear();
  control_a_->apply(plan_a_, 1420);
  run(2);
  EXPECT_TRUE(control_a_->status().peers.empty());
  EXPECT_EQ(a_->stats().current_index.load(), 0u);
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")});
  EXPECT_TRUE(a_->sent(kSiteWan).empty());
  EXPECT_EQ(a_->drops(DropReason::kTunnelNoPeer), 1u);
}

class MeshControlTwoLcoresTest : public MeshControlTest {
 protected:
  unsigned a_lcores() const override { return 2; }
};

TEST_F(MeshControlTwoLcoresTest, ThePeersLcoreHoldsItsSessionsWhicheverLcoreTheTrafficTakes) {
  // B is A's peer in slot 0: lcore 0's. A's LAN packet comes in by lcore 1 and B's datagrams
  // too (run()); lcore 0 seals and opens them all.
  a_->receive(kSiteLan, {lan_packet("10.2.0.7")}, 1);
  run();
  EXPECT_EQ(b_->sent(kSiteLan).size(), 1u);
  const uint32_t index = a_->stats().current_index.load();
  ASSERT_NE(index, 0u);
  EXPECT_EQ(wg::shard_of_index(index, 2), 0u) << "the session's index names its lcore";
  b_->receive(kSiteLan, {b_lan_packet()});
  run(2);
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u);
  EXPECT_EQ(a_->drops(DropReason::kTunnelSessionExpired), 0u);
  EXPECT_EQ(a_->drops(DropReason::kTunnelNoSession), 0u);

  // The sessions expire; B's next packet makes B the initiator: A answers (by lcore 1, where
  // the initiation came in) and B's packet, handed from lcore 1 to 0, confirms A's session
  // there; A's mirror follows from lcore 0's channel.
  now_ += seconds(181);
  wall_ += seconds(181);
  run(1);
  EXPECT_FALSE(control_a_->status().peers.at(0).has_session);
  b_->receive(kSiteLan, {b_lan_packet()});
  run();
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u);
  const MeshPeerStatus b_at_a = control_a_->status().peers.at(0);
  EXPECT_TRUE(b_at_a.has_session);
  EXPECT_EQ(b_at_a.handshakes_received, 2u) << "B's response to the first, its initiation now";
  EXPECT_EQ(wg::shard_of_index(a_->stats().current_index.load(), 2), 0u);
}

TEST_F(MeshControlTwoLcoresTest, APromotionReadAfterANewerInitiationStillMakesItCurrent) {
  // B (a handshaker with B's key, driven by hand) initiates; A's answer is next on lcore 0.
  wg::Handshaker hb(key_b_.private_key, 1000);
  const wg::PeerId a_at_b = *hb.add_peer(key_a_.public_key, {});
  const auto from_b = [](std::span<const uint8_t> message) {
    return PacketBuilder()
        .eth(kA.wan_mac, kB.wan_mac)
        .ipv4("192.0.2.2", "192.0.2.1")
        .udp(51820, kMeshPort, false)
        .raw(std::vector<uint8_t>(message.begin(), message.end()))
        .build();
  };
  const auto init1 = *hb.initiate(a_at_b, {}, wall_);
  a_->run(kSiteWan, {from_b(init1)}, 1);
  control_a_->tick(now_, wall_);
  a_->poll_lcore(0);
  const auto response = a_->sent(kSiteWan);
  ASSERT_EQ(response.size(), 1u) << "answered by lcore 0, the peer's";
  const auto b_keys = hb.take(std::span(response[0]).subspan(14 + 20 + 8),
                              *net::HostPort::parse("192.0.2.1:51820"), {});
  ASSERT_TRUE(b_keys.keys.has_value()) << b_keys.dropped;
  wg::TransportSession b_session(*b_keys.keys);

  // B initiates again (by lcore 1): A's control takes it before lcore 0's promotion of the
  // first, which lcore 0 makes on B's first packet before it reads the new install.
  now_ += milliseconds(50);
  wall_ += milliseconds(50);
  const auto init2 = *hb.initiate(a_at_b, milliseconds(50) + wg::TimerPoint{}, wall_);
  a_->run(kSiteWan, {from_b(init2)}, 1);
  control_a_->tick(now_, wall_);
  EXPECT_FALSE(control_a_->status().peers.at(0).has_session) << "nothing confirmed yet";
  auto inner = b_lan_packet();
  inner.erase(inner.begin(), inner.begin() + 14);
  std::vector<uint8_t> sealed(wg::sealed_size(inner.size()));
  sealed.resize(b_session.seal(inner, sealed));
  a_->run(kSiteWan, {from_b(sealed)}, 0);
  EXPECT_EQ(a_->sent(kSiteLan).size(), 1u) << "opened on the first session";
  a_->poll_lcore(0);
  control_a_->tick(now_, wall_);
  const MeshPeerStatus b_at_a = control_a_->status().peers.at(0);
  EXPECT_TRUE(b_at_a.has_session) << "the mirror follows the lcore: the first is current";
  EXPECT_TRUE(b_at_a.latest_handshake.has_value());
}

}  // namespace
}  // namespace vigil::dp

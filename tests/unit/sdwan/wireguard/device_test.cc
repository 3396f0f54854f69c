// Two WireGuard devices against each other on a simulated network and clock: the first packet
// starts a handshake and arrives once it is made, the responder's session waits for the
// initiator's first message, sources are held to allowed IPs, the peer roams, replays and
// stale initiations are dropped by name, a device under load asks for cookies, and aging
// sessions are rekeyed and given up.
#include "sdwan/wireguard/device.h"

#include <gtest/gtest.h>

#include <deque>

namespace vigil::wg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

net::HostPort at(const char* text) {
  return *net::HostPort::parse(text);
}

// An IPv4 packet from `src` to `dst` with `payload` bytes.
std::vector<uint8_t> ipv4(const char* src, const char* dst, size_t payload = 20) {
  std::vector<uint8_t> p(20 + payload, 0xaa);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  const auto s = *net::IpAddress::parse(src);
  const auto d = *net::IpAddress::parse(dst);
  std::copy(s.bytes.begin(), s.bytes.begin() + 4, p.begin() + 12);
  std::copy(d.bytes.begin(), d.bytes.begin() + 4, p.begin() + 16);
  return p;
}

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.emplace(DeviceSettings{.private_key = generate_keypair().private_key,
                              .jitter = [] { return milliseconds(0); }});
    b_.emplace(DeviceSettings{.private_key = generate_keypair().private_key,
                              .max_handshakes_per_second = 5,
                              .jitter = [] { return milliseconds(0); }});
    b_at_a_ = *a_->add_peer({.public_key = b_->identity().public_key, .endpoint = b_addr_});
    a_at_b_ = *b_->add_peer({.public_key = a_->identity().public_key, .endpoint = a_addr_});
    a_->allowed_ips().insert(*net::Prefix::parse_network("10.2.0.0/16"), b_at_a_);
    b_->allowed_ips().insert(*net::Prefix::parse_network("10.1.0.0/16"), a_at_b_);
  }

  // Delivers datagrams (and the replies they cause) until the network is quiet; returns the
  // packets each side delivered.
  void run(std::vector<Datagram> from_a, std::vector<Datagram> from_b = {}) {
    std::deque<std::pair<Datagram, net::HostPort>> wire;
    for (auto& d : from_a) {
      wire.emplace_back(std::move(d), a_addr_);
    }
    for (auto& d : from_b) {
      wire.emplace_back(std::move(d), b_addr_);
    }
    while (!wire.empty()) {
      auto [d, src] = std::move(wire.front());
      wire.pop_front();
      const bool to_b = d.to == b_addr_;
      Device& dev = to_b ? *b_ : *a_;
      auto r = dev.receive(d.bytes, src, now_, wall_);
      last_dropped_ = r.dropped;
      if (!r.packet.empty()) {
        (to_b ? at_b_ : at_a_).push_back(r.packet);
      }
      for (auto& reply : r.replies) {
        wire.emplace_back(std::move(reply), to_b ? b_addr_ : a_addr_);
      }
    }
  }

  net::HostPort a_addr_ = at("192.0.2.1:51820");
  net::HostPort b_addr_ = at("192.0.2.2:51820");
  std::optional<Device> a_, b_;
  PeerId b_at_a_ = 0, a_at_b_ = 0;
  TimerPoint now_ = TimerPoint{} + seconds(10000);
  WallClock::time_point wall_ = WallClock::now();
  std::vector<std::vector<uint8_t>> at_a_, at_b_;
  std::string last_dropped_;
};

TEST_F(DeviceTest, TheFirstPacketMakesTheHandshakeAndArrives) {
  const auto packet = ipv4("10.1.0.5", "10.2.0.9");
  auto out = a_->send(b_at_a_, packet, now_, wall_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(classify(out[0].bytes), Classified::kInitiation) << "held while the handshake runs";
  run(std::move(out));
  ASSERT_EQ(at_b_.size(), 1u);
  EXPECT_EQ(at_b_[0], packet);
  EXPECT_TRUE(a_->status(b_at_a_).has_session);
  EXPECT_TRUE(b_->status(a_at_b_).has_session) << "confirmed by A's first transport message";
  EXPECT_EQ(b_->status(a_at_b_).endpoint, a_addr_) << "learned from the initiation";
  // And back, sealed at once.
  auto back = b_->send(a_at_b_, ipv4("10.2.0.9", "10.1.0.5"), now_, wall_);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(classify(back[0].bytes), Classified::kTransport);
  run({}, std::move(back));
  EXPECT_EQ(at_a_.size(), 1u);
  EXPECT_GT(a_->status(b_at_a_).tx_bytes, 0u);
  EXPECT_GT(b_->status(a_at_b_).rx_bytes, 0u);
}

TEST_F(DeviceTest, TheRespondersSessionWaitsForTheInitiatorsFirstMessage) {
  auto init = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  auto answer = b_->receive(init[0].bytes, a_addr_, now_, wall_);
  ASSERT_EQ(answer.replies.size(), 1u);
  // B has answered but heard nothing on the session yet: it may not send on it.
  EXPECT_FALSE(b_->status(a_at_b_).has_session);
  auto early = b_->send(a_at_b_, ipv4("10.2.0.9", "10.1.0.5"), now_ + seconds(6), wall_);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(classify(early[0].bytes), Classified::kInitiation) << "not a transport message";
}

TEST_F(DeviceTest, BothSidesInitiatingAtOnceStillEndWithOneWorkingPair) {
  auto from_a = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  auto from_b = b_->send(a_at_b_, ipv4("10.2.0.9", "10.1.0.5"), now_, wall_);
  ASSERT_EQ(classify(from_b[0].bytes), Classified::kInitiation)
      << "B knows A's endpoint only from an initiation: give it one";
  run(std::move(from_a), std::move(from_b));
  at_a_.clear();
  at_b_.clear();
  // Whatever crossed, data flows both ways afterwards without a new handshake.
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_),
      b_->send(a_at_b_, ipv4("10.2.0.9", "10.1.0.5"), now_, wall_));
  EXPECT_EQ(at_b_.size(), 1u) << last_dropped_;
  EXPECT_EQ(at_a_.size(), 1u) << last_dropped_;
  EXPECT_EQ(a_->drops().count("no_session") + b_->drops().count("no_session"), 0u);
}

TEST_F(DeviceTest, SourcesOutsideThePeersAllowedIpsAreDropped) {
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  run(a_->send(b_at_a_, ipv4("10.7.0.5", "10.2.0.9"), now_, wall_));
  EXPECT_EQ(last_dropped_, "source_not_allowed");
  EXPECT_EQ(at_b_.size(), 1u);
  EXPECT_EQ(b_->drops().at("source_not_allowed"), 1u);
}

TEST_F(DeviceTest, ReplaysAndStaleInitiationsAreDroppedByName) {
  auto init = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  const auto initiation = init[0];
  run(std::move(init));
  auto data = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  const auto copy = data[0];
  run(std::move(data));
  run({copy});
  EXPECT_EQ(last_dropped_, "replay");
  now_ += seconds(1);
  run({initiation});
  EXPECT_EQ(last_dropped_, "stale_timestamp") << "the same TAI64N timestamp again";
  Device stranger(DeviceSettings{.private_key = generate_keypair().private_key});
  const auto id =
      *stranger.add_peer({.public_key = b_->identity().public_key, .endpoint = b_addr_});
  run(stranger.send(id, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  EXPECT_EQ(last_dropped_, "unknown_peer");
  auto forged = initiation;
  forged.bytes.at(120) ^= 1;  // in mac1
  run({forged});
  EXPECT_EQ(last_dropped_, "bad_mac1");
}

TEST_F(DeviceTest, ThePeerRoamsToWhereItsLastAuthenticatedPacketCameFrom) {
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  a_addr_ = at("198.51.100.7:40000");  // A's NAT mapping changed
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  EXPECT_EQ(b_->status(a_at_b_).endpoint, a_addr_);
  auto back = b_->send(a_at_b_, ipv4("10.2.0.9", "10.1.0.5"), now_, wall_);
  EXPECT_EQ(back[0].to, a_addr_);
}

TEST_F(DeviceTest, UnderLoadTheResponderAsksForACookieFirst) {
  // More than 5 handshake messages in a second put B under load, for a second.
  auto flood = [&] {
    for (int i = 0; i < 6; ++i) {
      Device other(DeviceSettings{.private_key = generate_keypair().private_key});
      const auto id =
          *other.add_peer({.public_key = b_->identity().public_key, .endpoint = b_addr_});
      auto init = other.send(id, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
      (void)b_->receive(init[0].bytes, at("203.0.113.1:1"), now_, wall_);
    }
  };
  flood();
  ASSERT_TRUE(b_->under_load(now_));
  EXPECT_FALSE(b_->under_load(now_ + seconds(1)));
  auto init = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  auto r = b_->receive(init[0].bytes, a_addr_, now_, wall_);
  EXPECT_EQ(r.dropped, "cookie_sent");
  ASSERT_EQ(r.replies.size(), 1u);
  ASSERT_EQ(classify(r.replies[0].bytes), Classified::kCookieReply);
  EXPECT_TRUE(a_->receive(r.replies[0].bytes, b_addr_, now_, wall_).dropped.empty());
  // The retry carries mac2 from the cookie and is answered, still under load.
  now_ += seconds(5);
  wall_ += seconds(5);
  flood();
  auto again = a_->tick(now_, wall_);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(b_->under_load(now_));
  run(std::move(again));
  EXPECT_TRUE(a_->status(b_at_a_).has_session);
  EXPECT_EQ(at_b_.size(), 1u) << "the held packet went after the handshake";

  // A cookie holder sending initiations at line rate is held to 5 at once per source address
  // (each would cost the responder a DH): made by hand, with a valid mac2 each.
  const auto source = at("203.0.113.9:7");
  const auto c = LocalIdentity::from_private(generate_keypair().private_key);
  const auto b_at_c = *PeerIdentity::make(c, b_->identity().public_key);
  CookieGenerator gen(b_at_c);
  auto initiation = [&] {
    PendingInitiation pending;
    auto bytes = encode(*create_initiation(c, b_at_c, 1, tai64n(wall_), pending));
    gen.seal(bytes, now_);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  };
  flood();
  auto cookie = b_->receive(initiation(), source, now_, wall_);
  ASSERT_EQ(cookie.dropped, "cookie_sent");
  CookieReply reply;
  ASSERT_TRUE(decode(cookie.replies[0].bytes, reply));
  ASSERT_TRUE(gen.consume(reply, now_));
  std::map<std::string, int> outcome;
  for (int i = 0; i < 12; ++i) {
    ++outcome[b_->receive(initiation(), source, now_, wall_).dropped];
  }
  EXPECT_EQ(outcome["unknown_peer"], 5) << "these got as far as a DH";
  EXPECT_EQ(outcome["source_rate_limited"], 7);
}

TEST_F(DeviceTest, AgingSessionsAreRekeyedAndThenGivenUp) {
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  now_ += seconds(121);
  auto out = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  ASSERT_EQ(out.size(), 2u) << "the packet on the old session, and a new initiation";
  EXPECT_EQ(classify(out[0].bytes), Classified::kTransport);
  EXPECT_EQ(classify(out[1].bytes), Classified::kInitiation);
  run(std::move(out));
  EXPECT_EQ(at_b_.size(), 2u);
  EXPECT_EQ(a_->status(b_at_a_).handshakes_sent, 2u);

  // Nothing renews it: after 180 s the session is gone and a packet waits for a handshake.
  now_ += seconds(181);
  (void)a_->tick(now_, wall_);
  EXPECT_FALSE(a_->status(b_at_a_).has_session);
  auto waits = a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(classify(waits[0].bytes), Classified::kInitiation);

  // B is gone: A retries for 90 s, gives up, and 540 s later forgets the handshake too.
  size_t retries = 0;
  for (int s = 0; s < 700; ++s) {
    now_ += seconds(1);
    for (const auto& d : a_->tick(now_, wall_)) {
      retries += classify(d.bytes) == Classified::kInitiation ? 1 : 0;
    }
  }
  EXPECT_GE(retries, 16u);
  EXPECT_LE(retries, 18u) << "not past 90 s";
  EXPECT_FALSE(a_->status(b_at_a_).handshake_pending);
  EXPECT_EQ(a_->indexes_in_use(), 0u) << "no index, no ephemeral key left";
}

TEST_F(DeviceTest, ARemovedPeerLeavesNothingIndexed) {
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  EXPECT_GT(b_->indexes_in_use(), 0u);
  b_->remove_peer(a_at_b_);
  EXPECT_EQ(b_->indexes_in_use(), 0u);
  run(a_->send(b_at_a_, ipv4("10.1.0.5", "10.2.0.9"), now_, wall_));
  EXPECT_EQ(last_dropped_, "no_session");
}

}  // namespace
}  // namespace vigil::wg

// The handshake between two of our own peers: both sides end with the same transport keys,
// with and without a preshared key; anything tampered with, sealed for another key, or from a
// key we have no peer for is refused, and says why.
#include "sdwan/wireguard/noise.h"

#include <gtest/gtest.h>

#include <chrono>

namespace vigil::wg {
namespace {

struct Side {
  LocalIdentity local = LocalIdentity::from_private(generate_keypair().private_key);
};

class NoiseTest : public ::testing::Test {
 protected:
  Side alice_, bob_;
  Tai64n now_ = tai64n(std::chrono::system_clock::now());

  // alice initiates to bob; returns the two sessions.
  std::pair<std::optional<SessionKeys>, std::optional<SessionKeys>> handshake(
      const Key& psk_alice = {}, const Key& psk_bob = {}) {
    const auto bob_at_alice = PeerIdentity::make(alice_.local, bob_.local.public_key, psk_alice);
    const auto alice_at_bob = PeerIdentity::make(bob_.local, alice_.local.public_key, psk_bob);
    PendingInitiation pending;
    const auto init = create_initiation(alice_.local, *bob_at_alice, 11, now_, pending);
    EXPECT_TRUE(init.has_value());
    Initiation on_wire;
    EXPECT_TRUE(decode(encode(*init), on_wire));
    InitiationRefusal why{};
    const auto received = consume_initiation(
        bob_.local, on_wire,
        [&](const Key& k) { return k == alice_.local.public_key ? &*alice_at_bob : nullptr; }, why);
    EXPECT_TRUE(received.has_value()) << name_of(why);
    EXPECT_EQ(received->timestamp, now_);
    EXPECT_EQ(received->initiator_index, 11u);
    const auto answer = create_response(*received, 22);
    EXPECT_TRUE(answer.has_value());
    Response response_on_wire;
    EXPECT_TRUE(decode(encode(answer->response), response_on_wire));
    return {consume_response(alice_.local, *bob_at_alice, pending, response_on_wire), answer->keys};
  }
};

TEST_F(NoiseTest, BothSidesEndWithTheSameKeysCrossed) {
  const auto [a, b] = handshake();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->send, b->receive);
  EXPECT_EQ(a->receive, b->send);
  EXPECT_NE(a->send, a->receive);
  EXPECT_EQ(a->local_index, 11u);
  EXPECT_EQ(a->remote_index, 22u);
  EXPECT_EQ(b->local_index, 22u);
  EXPECT_EQ(b->remote_index, 11u);
  EXPECT_TRUE(a->initiator);
  EXPECT_FALSE(b->initiator);
  const auto [a2, b2] = handshake();
  EXPECT_NE(a2->send, a->send) << "fresh ephemerals each time";
}

TEST_F(NoiseTest, APresharedKeyMustBeTheSameOnBothSides) {
  Key psk{};
  psk.fill(0x42);
  const auto [a, b] = handshake(psk, psk);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->send, b->receive);
  const auto [no_psk, _] = handshake();
  EXPECT_NE(no_psk->send, a->send);
  Key other = psk;
  other[0] ^= 1;
  const auto [mismatch, __] = handshake(psk, other);
  EXPECT_FALSE(mismatch.has_value()) << "the response does not decrypt";
}

TEST_F(NoiseTest, RefusalsSayWhy) {
  const auto bob_at_alice = PeerIdentity::make(alice_.local, bob_.local.public_key);
  const auto alice_at_bob = PeerIdentity::make(bob_.local, alice_.local.public_key);
  auto find = [&](const Key& k) { return k == alice_.local.public_key ? &*alice_at_bob : nullptr; };
  PendingInitiation pending;
  const Initiation init = *create_initiation(alice_.local, *bob_at_alice, 1, now_, pending);
  InitiationRefusal why{};

  Side carol;  // not whom it was sealed for
  EXPECT_FALSE(consume_initiation(carol.local, init, find, why).has_value());
  EXPECT_EQ(why, InitiationRefusal::kStaticDoesNotDecrypt);

  EXPECT_FALSE(consume_initiation(
      bob_.local, init, [](const Key&) { return nullptr; }, why));
  EXPECT_EQ(why, InitiationRefusal::kUnknownPeer);

  Initiation tampered = init;
  tampered.encrypted_timestamp[0] ^= 1;
  EXPECT_FALSE(consume_initiation(bob_.local, tampered, find, why));
  EXPECT_EQ(why, InitiationRefusal::kTimestampDoesNotDecrypt);

  tampered = init;
  tampered.ephemeral[5] ^= 1;
  EXPECT_FALSE(consume_initiation(bob_.local, tampered, find, why));
  EXPECT_EQ(why, InitiationRefusal::kStaticDoesNotDecrypt);

  // A peer that claims to be alice with another key cannot finish: the static-static DH.
  const auto impostor = PeerIdentity::make(bob_.local, carol.local.public_key);
  EXPECT_FALSE(consume_initiation(
      bob_.local, init, [&](const Key&) { return &*impostor; }, why));
  EXPECT_EQ(why, InitiationRefusal::kTimestampDoesNotDecrypt);

  const auto received = consume_initiation(bob_.local, init, find, why);
  ASSERT_TRUE(received.has_value());
  Response response = create_response(*received, 2)->response;
  Response bad = response;
  bad.encrypted_nothing[3] ^= 1;
  EXPECT_FALSE(consume_response(alice_.local, *bob_at_alice, pending, bad));
  bad = response;
  bad.receiver = 99;
  EXPECT_FALSE(consume_response(alice_.local, *bob_at_alice, pending, bad)) << "not to us";
  EXPECT_TRUE(consume_response(alice_.local, *bob_at_alice, pending, response));
}

TEST_F(NoiseTest, ALowOrderKeyMakesNoPeer) {
  EXPECT_FALSE(PeerIdentity::make(alice_.local, Key{}).has_value());
}

TEST(Tai64n, FormatAndOrder) {
  const auto epoch = tai64n(std::chrono::system_clock::time_point{});
  EXPECT_EQ(epoch, (Tai64n{0x40, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0}));
  const auto t = tai64n(std::chrono::system_clock::time_point{std::chrono::seconds(1) +
                                                              std::chrono::nanoseconds(0x1234567)});
  EXPECT_EQ(t, (Tai64n{0x40, 0, 0, 0, 0, 0, 0, 0x0b, 0x01, 0, 0, 0})) << "below 2^24 ns dropped";
  EXPECT_TRUE(later(t, epoch));
  EXPECT_FALSE(later(epoch, t));
  EXPECT_FALSE(later(t, t)) << "the same timestamp again is a replay";
}

}  // namespace
}  // namespace vigil::wg

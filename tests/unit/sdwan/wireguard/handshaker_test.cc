// The handshake side alone: an initiation answered gives both sides matching keys and indexes
// the table knows; what it refuses is named; removing a peer frees every index it held; under
// load, a handshake without a cookie gets a cookie reply instead of a DH; keys rotate in place,
// the previous one taken during the grace and refused after it.
#include "sdwan/wireguard/handshaker.h"

#include <gtest/gtest.h>

namespace vigil::wg {
namespace {

const net::HostPort kFromA = *net::HostPort::parse("192.0.2.1:51820");
const net::HostPort kFromB = *net::HostPort::parse("192.0.2.2:51820");

class HandshakerTest : public ::testing::Test {
 protected:
  Handshaker a_{generate_keypair().private_key, 1000};
  Handshaker b_{generate_keypair().private_key, 2};
  PeerId b_at_a_ = *a_.add_peer(b_.identity().public_key, {});
  PeerId a_at_b_ = *b_.add_peer(a_.identity().public_key, {});
  TimerPoint now_{};
  WallClock::time_point wall_ = WallClock::now();
};

TEST_F(HandshakerTest, AnAnsweredInitiationGivesBothSidesTheSameSession) {
  const auto init = a_.initiate(b_at_a_, now_, wall_);
  ASSERT_TRUE(init.has_value());
  EXPECT_TRUE(a_.handshake_pending(b_at_a_));
  const auto taken = b_.take(*init, kFromA, now_);
  ASSERT_EQ(taken.dropped, "");
  EXPECT_EQ(taken.kind, Classified::kInitiation);
  ASSERT_EQ(taken.peer, a_at_b_);
  ASSERT_TRUE(taken.keys.has_value());
  EXPECT_FALSE(taken.keys->initiator);
  EXPECT_EQ(b_.session_owner(taken.keys->local_index), a_at_b_);

  const auto answered = a_.take(taken.reply, kFromB, now_);
  ASSERT_EQ(answered.dropped, "");
  EXPECT_EQ(answered.kind, Classified::kResponse);
  ASSERT_TRUE(answered.keys.has_value());
  EXPECT_TRUE(answered.keys->initiator);
  EXPECT_EQ(answered.keys->send, taken.keys->receive);
  EXPECT_EQ(answered.keys->receive, taken.keys->send);
  EXPECT_EQ(answered.keys->remote_index, taken.keys->local_index);
  EXPECT_EQ(taken.keys->remote_index, answered.keys->local_index);
  EXPECT_FALSE(a_.handshake_pending(b_at_a_));
  EXPECT_EQ(a_.session_owner(answered.keys->local_index), b_at_a_);

  // The same initiation again is a replay; the same response again answers nothing pending.
  EXPECT_EQ(b_.take(*init, kFromA, now_ + seconds(1)).dropped, "stale_timestamp");
  EXPECT_EQ(a_.take(taken.reply, kFromB, now_).dropped, "no_handshake");
}

TEST_F(HandshakerTest, RemovingAPeerFreesItsIndexesAndReleaseFreesOne) {
  const auto init = a_.initiate(b_at_a_, now_, wall_);
  const auto taken = b_.take(*init, kFromA, now_);
  const auto answered = a_.take(taken.reply, kFromB, now_);
  ASSERT_TRUE(answered.keys.has_value());
  ASSERT_TRUE(a_.initiate(b_at_a_, now_, wall_).has_value());  // a second handshake pending
  EXPECT_EQ(a_.indexes_in_use(), 2u);
  a_.release(answered.keys->local_index);
  EXPECT_EQ(a_.indexes_in_use(), 1u);
  EXPECT_FALSE(a_.session_owner(answered.keys->local_index).has_value());
  a_.remove_peer(b_at_a_);
  EXPECT_EQ(a_.indexes_in_use(), 0u);
  EXPECT_FALSE(a_.has_peer(b_at_a_));
  EXPECT_FALSE(a_.initiate(b_at_a_, now_, wall_).has_value());
}

TEST_F(HandshakerTest, OurOwnKeyAndASecondPeerWithOneKeyAreRefused) {
  EXPECT_FALSE(a_.add_peer(a_.identity().public_key, {}).has_value());
  EXPECT_FALSE(a_.add_peer(b_.identity().public_key, {}).has_value());
}

TEST(HandshakerShardTest, EveryIndexOfAPeerNamesItsShard) {
  // vigil-dp's lcores pass a transport message to the one holding its session by the index
  // alone: the peer's pending initiations and its sessions, either side initiating.
  Handshaker a{generate_keypair().private_key, 1000};
  Handshaker b{generate_keypair().private_key, 1000};
  const PeerId b_at_a = *a.add_peer(b.identity().public_key, {}, {.shard = 2, .count = 3});
  const PeerId a_at_b = *b.add_peer(a.identity().public_key, {}, {.shard = 5, .count = 7});
  TimerPoint now{};
  WallClock::time_point wall = WallClock::now();
  for (int i = 0; i < 40; ++i) {
    now += milliseconds(50);
    wall += seconds(1);
    const bool a_starts = i % 2 == 0;
    Handshaker& from = a_starts ? a : b;
    Handshaker& to = a_starts ? b : a;
    const auto init = from.initiate(a_starts ? b_at_a : a_at_b, now, wall);
    ASSERT_TRUE(init.has_value());
    const auto taken = to.take(*init, a_starts ? kFromA : kFromB, now);
    ASSERT_TRUE(taken.keys.has_value()) << taken.dropped;
    const auto answered = from.take(taken.reply, a_starts ? kFromB : kFromA, now);
    ASSERT_TRUE(answered.keys.has_value()) << answered.dropped;
    const uint32_t at_a = a_starts ? answered.keys->local_index : taken.keys->local_index;
    const uint32_t at_b = a_starts ? taken.keys->local_index : answered.keys->local_index;
    EXPECT_EQ(shard_of_index(at_a, 3), 2u) << at_a;
    EXPECT_EQ(shard_of_index(at_b, 7), 5u) << at_b;
    a.release(at_a);
    b.release(at_b);
  }
  // A shard that is not one of `count` is refused; one owner is every index.
  EXPECT_FALSE(a.add_peer(generate_keypair().public_key, {}, {.shard = 3, .count = 3}));
  EXPECT_FALSE(a.add_peer(generate_keypair().public_key, {}, {.shard = 0, .count = 0}));
  EXPECT_EQ(shard_of_index(0xffffffffu, 1), 0u);
}

TEST_F(HandshakerTest, UnderLoadAnInitiationWithoutACookieIsAnsweredWithOne) {
  // b is under load past 2 handshake messages a second.
  std::vector<Handshaker::Taken> taken;
  for (int i = 0; i < 3; ++i) {
    const auto init = a_.initiate(b_at_a_, now_ + milliseconds(30 * i), wall_ + seconds(i));
    taken.push_back(b_.take(*init, kFromA, now_ + milliseconds(30 * i)));
  }
  EXPECT_EQ(taken[0].dropped, "");
  EXPECT_EQ(taken[1].dropped, "");
  EXPECT_EQ(taken[2].dropped, "cookie_sent");
  ASSERT_EQ(taken[2].reply.size(), kCookieReplySize);
  EXPECT_FALSE(taken[2].keys.has_value());
  // The cookie taken, the next initiation carries mac2 and is answered.
  EXPECT_EQ(a_.take(taken[2].reply, kFromB, now_ + milliseconds(60)).dropped, "");
  const auto init = a_.initiate(b_at_a_, now_ + milliseconds(90), wall_ + seconds(3));
  const auto answered = b_.take(*init, kFromA, now_ + milliseconds(90));
  EXPECT_EQ(answered.dropped, "");
  EXPECT_TRUE(answered.keys.has_value());
}

TEST_F(HandshakerTest, TransportAndGarbageAreNotHandshakes) {
  const std::vector<uint8_t> garbage{1, 2, 3};
  EXPECT_EQ(b_.take(garbage, kFromA, now_).dropped, "too_short");
}

// A rotation: a side's key changes in place, its previous key answered until the grace ends;
// the peer, told the new key, takes handshakes from either until its grace ends too.
class HandshakerRotationTest : public ::testing::Test {
 protected:
  // One exchange: `from` initiates to `peer`, `to` answers; "" when both ends have a session,
  // else why not.
  static std::string handshake(Handshaker& from, PeerId peer, Handshaker& to, TimerPoint now,
                               WallClock::time_point wall) {
    const auto init = from.initiate(peer, now, wall);
    if (!init) {
      return "no initiation";
    }
    const auto taken = to.take(*init, kFromA, now);
    if (!taken.dropped.empty()) {
      return "responder: " + taken.dropped;
    }
    const auto answered = from.take(taken.reply, kFromB, now);
    if (!answered.dropped.empty()) {
      return "initiator: " + answered.dropped;
    }
    return answered.keys && taken.keys && answered.keys->send == taken.keys->receive
               ? ""
               : "keys differ";
  }

  KeyPair old_a_ = generate_keypair();
  KeyPair new_a_ = generate_keypair();
  Handshaker a_{old_a_.private_key, 1000};
  Handshaker b_{generate_keypair().private_key, 1000};
  PeerId b_at_a_ = *a_.add_peer(b_.identity().public_key, {});
  PeerId a_at_b_ = *b_.add_peer(a_.identity().public_key, {});
  TimerPoint now_{};
  WallClock::time_point wall_ = WallClock::now();

  void next() {
    now_ += seconds(1);
    wall_ += seconds(1);
  }
};

TEST_F(HandshakerRotationTest, BothKeysWorkDuringTheGraceAndOnlyTheNewAfterIt) {
  // A session from before the rotation, which must outlive it.
  const auto init = b_.initiate(a_at_b_, now_, wall_);
  const auto taken = a_.take(*init, kFromB, now_);
  ASSERT_TRUE(taken.keys.has_value());
  ASSERT_EQ(b_.take(taken.reply, kFromA, now_).dropped, "");
  next();

  ASSERT_TRUE(a_.set_identity(new_a_.private_key, old_a_.private_key));
  EXPECT_EQ(a_.identity().public_key, new_a_.public_key);
  EXPECT_EQ(a_.previous_public_key(), old_a_.public_key);
  EXPECT_EQ(a_.session_owner(taken.keys->local_index), b_at_a_);
  // B has not heard of the new key: its handshakes to the old one are answered, A's with the
  // new one are not.
  EXPECT_EQ(handshake(b_, a_at_b_, a_, now_, wall_), "");
  next();
  EXPECT_EQ(handshake(a_, b_at_a_, b_, now_, wall_), "responder: unknown_peer");
  next();

  // Told: both ways work, and A's previous key still counts as A's.
  ASSERT_TRUE(b_.set_peer_keys(a_at_b_, new_a_.public_key, old_a_.public_key));
  EXPECT_EQ(b_.public_key(a_at_b_), new_a_.public_key);
  EXPECT_EQ(b_.previous_public_key(a_at_b_), old_a_.public_key);
  EXPECT_EQ(handshake(a_, b_at_a_, b_, now_, wall_), "");
  next();
  EXPECT_EQ(handshake(b_, a_at_b_, a_, now_, wall_), "");
  next();
  Handshaker a_rolled_back{old_a_.private_key, 1000};  // A as it was: B still takes it
  const PeerId b_at_old = *a_rolled_back.add_peer(b_.identity().public_key, {});
  EXPECT_EQ(handshake(a_rolled_back, b_at_old, b_, now_, wall_), "");
  next();

  // The grace over on both sides: the old key is nobody's.
  ASSERT_TRUE(a_.set_identity(new_a_.private_key));
  ASSERT_TRUE(b_.set_peer_keys(a_at_b_, new_a_.public_key, std::nullopt));
  EXPECT_FALSE(a_.previous_public_key().has_value());
  EXPECT_FALSE(b_.previous_public_key(a_at_b_).has_value());
  EXPECT_EQ(handshake(a_rolled_back, b_at_old, b_, now_, wall_), "responder: unknown_peer");
  Handshaker b_stale{generate_keypair().private_key, 1000};
  const PeerId old_at_stale = *b_stale.add_peer(old_a_.public_key, {});
  EXPECT_EQ(handshake(b_stale, old_at_stale, a_, now_, wall_), "responder: bad_mac1");
  next();
  EXPECT_EQ(handshake(a_, b_at_a_, b_, now_, wall_), "");
  EXPECT_EQ(a_.session_owner(taken.keys->local_index), b_at_a_);
}

TEST_F(HandshakerRotationTest, AChangeDropsTheInitiationPendingAndKeepsTheTimestamp) {
  const auto before = a_.initiate(b_at_a_, now_, wall_);
  ASSERT_TRUE(before.has_value());
  const auto taken = b_.take(*before, kFromA, now_);
  ASSERT_EQ(taken.dropped, "");
  ASSERT_TRUE(a_.set_identity(new_a_.private_key, old_a_.private_key));
  EXPECT_FALSE(a_.handshake_pending(b_at_a_));
  EXPECT_EQ(a_.take(taken.reply, kFromB, now_).dropped, "no_handshake");
  // B's record of A's last timestamp survives A's change of key: the old initiation stays a
  // replay.
  ASSERT_TRUE(b_.set_peer_keys(a_at_b_, new_a_.public_key, old_a_.public_key));
  EXPECT_EQ(b_.take(*before, kFromA, now_ + seconds(1)).dropped, "stale_timestamp");
}

TEST_F(HandshakerRotationTest, ACookieAnswersAResponseMadeAsThePreviousKey) {
  // C, under load past 2 messages a second, still knows A by its old key.
  Handshaker c{generate_keypair().private_key, 2};
  const PeerId a_at_c = *c.add_peer(old_a_.public_key, {});
  const PeerId c_at_a = *a_.add_peer(c.identity().public_key, {});
  ASSERT_TRUE(a_.set_identity(new_a_.private_key, old_a_.private_key));
  std::string last;
  for (int i = 0; i < 3; ++i) {
    const auto init = c.initiate(a_at_c, now_, wall_);
    const auto response = a_.take(*init, kFromB, now_);
    ASSERT_EQ(response.dropped, "") << "answered as the previous key";
    const auto taken = c.take(response.reply, kFromA, now_);
    last = taken.dropped;
    if (taken.dropped == "cookie_sent") {
      const auto cookie = a_.take(taken.reply, kFromB, now_);
      EXPECT_EQ(cookie.dropped, "") << "the cookie is for the pairing that sealed the response";
      EXPECT_EQ(cookie.peer, c_at_a);
    }
    now_ += milliseconds(30);  // within C's second, past A's flood interval
    wall_ += seconds(1);
  }
  EXPECT_EQ(last, "cookie_sent");
}

TEST_F(HandshakerRotationTest, KeysThatAreOthersAreRefusedAndChangeNothing) {
  const KeyPair c = generate_keypair();
  const PeerId c_at_b = *b_.add_peer(c.public_key, {});
  // A peer may not take another peer's key, or ours, as its new or its previous one.
  EXPECT_FALSE(b_.set_peer_keys(a_at_b_, c.public_key, std::nullopt));
  EXPECT_FALSE(b_.set_peer_keys(a_at_b_, new_a_.public_key, c.public_key));
  EXPECT_FALSE(b_.set_peer_keys(a_at_b_, b_.identity().public_key, std::nullopt));
  EXPECT_EQ(b_.public_key(a_at_b_), old_a_.public_key);
  EXPECT_FALSE(b_.previous_public_key(a_at_b_).has_value());
  // Our key may not be a peer's, current or previous.
  Handshaker c_side{c.private_key, 1000};
  EXPECT_FALSE(b_.set_identity(c.private_key));
  const auto b_key = b_.identity().public_key;
  EXPECT_FALSE(b_.set_identity(generate_keypair().private_key, c.private_key));
  EXPECT_EQ(b_.identity().public_key, b_key);
  EXPECT_FALSE(b_.previous_public_key().has_value());
  // C still works after the refusals.
  const PeerId b_at_c = *c_side.add_peer(b_key, {});
  EXPECT_EQ(handshake(c_side, b_at_c, b_, now_, wall_), "");
  EXPECT_TRUE(b_.has_peer(c_at_b));
}

}  // namespace
}  // namespace vigil::wg

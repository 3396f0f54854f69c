// mac1 on every handshake message, and under load mac2 from a cookie the source address was
// given: the cookie reply decrypts only for the message it answers, and a cookie is good for
// its own source and for two minutes.
#include "sdwan/wireguard/cookie.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::wg {
namespace {

using std::chrono::seconds;

class CookieTest : public ::testing::Test {
 protected:
  LocalIdentity alice_ = LocalIdentity::from_private(generate_keypair().private_key);
  LocalIdentity bob_ = LocalIdentity::from_private(generate_keypair().private_key);
  PeerIdentity bob_at_alice_ = *PeerIdentity::make(alice_, bob_.public_key);
  CookieGenerator to_bob_{bob_at_alice_};
  CookieChecker bob_checks_{bob_};
  Clock::time_point now_ = Clock::now();
  std::vector<uint8_t> from_ = {10, 0, 0, 1, 0x1f, 0x90};
  std::vector<uint8_t> elsewhere_ = {10, 0, 0, 2, 0x1f, 0x90};

  uint8_t made_ = 0;

  // A new initiation each time (its own ephemeral key, so its own mac1).
  InitiationBytes message() {
    Initiation i;
    i.sender = 77;
    i.ephemeral.fill(++made_);
    auto bytes = encode(i);
    to_bob_.seal(bytes, now_);
    return bytes;
  }
};

TEST_F(CookieTest, Mac1IsKeyedByTheReceiversPublicKey) {
  auto m = message();
  EXPECT_TRUE(bob_checks_.mac1_ok(m));
  EXPECT_FALSE(CookieChecker(alice_).mac1_ok(m)) << "sealed for bob, not alice";
  m[10] ^= 1;
  EXPECT_FALSE(bob_checks_.mac1_ok(m));
  EXPECT_EQ(std::vector<uint8_t>(m.begin() + 132, m.end()), std::vector<uint8_t>(16, 0))
      << "no cookie yet: mac2 is zero";
  EXPECT_FALSE(bob_checks_.mac1_ok(std::vector<uint8_t>(20))) << "no room for macs";
  EXPECT_FALSE(bob_checks_.mac2_ok(std::vector<uint8_t>(3), from_, now_));
}

TEST_F(CookieTest, UnderLoadACookieReplyGivesMac2ForThatSourceOnly) {
  const auto first = message();
  EXPECT_FALSE(bob_checks_.mac2_ok(first, from_, now_));
  const CookieReply reply = bob_checks_.reply(first, from_, now_);
  EXPECT_EQ(reply.receiver, 77u) << "addressed to the message's sender index";
  CookieReply on_wire;
  ASSERT_TRUE(decode(encode(reply), on_wire));
  ASSERT_TRUE(to_bob_.consume(on_wire, now_));

  const auto second = message();
  EXPECT_TRUE(bob_checks_.mac1_ok(second));
  EXPECT_TRUE(bob_checks_.mac2_ok(second, from_, now_));
  EXPECT_FALSE(bob_checks_.mac2_ok(second, elsewhere_, now_)) << "another source";
  EXPECT_FALSE(bob_checks_.mac2_ok(second, from_, now_ + seconds(121))) << "an old secret";

  now_ += seconds(121);  // the sender's cookie is too old to use
  const auto late = message();
  EXPECT_EQ(std::vector<uint8_t>(late.begin() + 132, late.end()), std::vector<uint8_t>(16, 0));
}

TEST_F(CookieTest, AReplyToAnotherMessageOrForgedIsRefused) {
  const auto first = message();
  CookieReply reply = bob_checks_.reply(first, from_, now_);
  (void)message();  // a newer message: its mac1 is what a reply must answer now
  EXPECT_FALSE(to_bob_.consume(reply, now_));
  CookieGenerator fresh(bob_at_alice_);
  EXPECT_FALSE(fresh.consume(reply, now_)) << "nothing sent yet";
  const auto again = message();
  reply = bob_checks_.reply(again, from_, now_);
  reply.encrypted_cookie[0] ^= 1;
  EXPECT_FALSE(to_bob_.consume(reply, now_));
}

}  // namespace
}  // namespace vigil::wg

// Transport messages between the two ends of a handshake: padded, sealed, opened once, and a
// tampered, replayed or misaddressed datagram refused by name.
#include "sdwan/wireguard/transport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <tuple>
#include <vector>

#include "tests/support/wg_session_pair.h"

namespace vigil::wg {
namespace {

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::tie(alice_keys_, bob_keys_) = test::wg_session_pair();
    alice_.emplace(alice_keys_);
    bob_.emplace(bob_keys_);
  }

  SessionKeys alice_keys_, bob_keys_;
  std::optional<TransportSession> alice_, bob_;
};

TEST_F(TransportTest, PacketsArePaddedSealedAndOpenedOnce) {
  const std::vector<uint8_t> packet(1281, 0xab);
  std::vector<uint8_t> datagram(sealed_size(packet.size()));
  EXPECT_EQ(datagram.size(), 16u + 1296u + 16u) << "padded to a multiple of 16";
  ASSERT_EQ(alice_->seal(packet, datagram), datagram.size());
  EXPECT_EQ(datagram[4], 6) << "addressed to bob's index";
  std::vector<uint8_t> out(datagram.size());
  size_t length = 0;
  ASSERT_EQ(bob_->open(datagram, out, length), OpenResult::kOk);
  EXPECT_EQ(length, 1296u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 1281), packet);
  EXPECT_EQ(out[1281], 0) << "zero padding";
  EXPECT_EQ(bob_->open(datagram, out, length), OpenResult::kReplay);

  std::vector<uint8_t> keepalive(sealed_size(0));
  ASSERT_EQ(bob_->seal({}, keepalive), kKeepaliveSize);
  ASSERT_EQ(alice_->open(keepalive, out, length), OpenResult::kOk);
  EXPECT_EQ(length, 0u);
}

TEST_F(TransportTest, SealedInPlaceItIsTheSameDatagramAndOpensInPlace) {
  const std::vector<uint8_t> packet(1281, 0xab);
  std::vector<uint8_t> copied(sealed_size(packet.size()));
  ASSERT_EQ(alice_->seal(packet, copied), copied.size());

  // A second session with the same keys seals the same counter where the packet lies.
  TransportSession alice(alice_keys_);
  std::vector<uint8_t> buffer(sealed_size(packet.size()), 0xee);
  std::copy(packet.begin(), packet.end(), buffer.begin() + kTransportHeaderSize);
  ASSERT_EQ(alice.seal_in_place(buffer, packet.size()), buffer.size());
  EXPECT_EQ(buffer, copied);
  EXPECT_EQ(alice.seal_in_place(std::span(buffer).first(buffer.size() - 1), packet.size()), 0u)
      << "no room for the tag";

  size_t length = 0;
  std::span<uint8_t> body = std::span(buffer).subspan(kTransportHeaderSize);
  ASSERT_EQ(bob_->open(buffer, body, length), OpenResult::kOk);
  EXPECT_EQ(std::vector<uint8_t>(body.begin(), body.begin() + 1281), packet);
}

TEST(TransportPadding, ToSixteenButNeverPastTheMtu) {
  EXPECT_EQ(padded_size(0), 0u);
  EXPECT_EQ(padded_size(1), 16u);
  EXPECT_EQ(padded_size(1420), 1424u) << "no MTU given";
  EXPECT_EQ(padded_size(1420, 1420), 1420u) << "a full-sized packet stays full-sized";
  EXPECT_EQ(padded_size(1417, 1420), 1420u);
  EXPECT_EQ(padded_size(1400, 1420), 1408u);
  EXPECT_EQ(padded_size(1500, 1420), 1500u) << "already over the MTU: not padded";
  EXPECT_EQ(sealed_size(1420, 1420), 16u + 1420u + 16u);
}

TEST_F(TransportTest, TamperedMisaddressedAndForeignDatagramsAreRefused) {
  std::vector<uint8_t> datagram(sealed_size(64));
  alice_->seal(std::vector<uint8_t>(64, 1), datagram);
  std::vector<uint8_t> out(datagram.size());
  size_t length = 0;
  auto bad = datagram;
  bad[40] ^= 1;
  EXPECT_EQ(bob_->open(bad, out, length), OpenResult::kBadTag);
  bad = datagram;
  bad[8] ^= 1;  // another counter: the tag does not hold, and the window does not move
  EXPECT_EQ(bob_->open(bad, out, length), OpenResult::kBadTag);
  bad = datagram;
  bad[4] ^= 1;
  EXPECT_EQ(bob_->open(bad, out, length), OpenResult::kNotThisSession);
  EXPECT_EQ(bob_->open(std::vector<uint8_t>(20), out, length), OpenResult::kNotTransport);
  std::vector<uint8_t> small(8);
  EXPECT_EQ(bob_->open(datagram, small, length), OpenResult::kTooLarge);
  EXPECT_EQ(alice_->open(datagram, out, length), OpenResult::kNotThisSession)
      << "its own datagram is addressed to bob";
  EXPECT_EQ(bob_->open(datagram, out, length), OpenResult::kOk) << "the original still opens";
}

}  // namespace
}  // namespace vigil::wg

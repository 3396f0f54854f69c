// The four messages on the wire: sizes, field order and byte order, and every datagram that
// is none of them named for its counter.
#include "sdwan/wireguard/messages.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::wg {
namespace {

TEST(WireguardMessages, EachRoundTripsWithLittleEndianIndexes) {
  Initiation i;
  i.sender = 0x04030201;
  i.ephemeral.fill(0xee);
  i.encrypted_static.fill(0x55);
  i.encrypted_timestamp.fill(0x77);
  i.mac1.fill(0x11);
  i.mac2.fill(0x22);
  const auto bytes = encode(i);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 8),
            (std::vector<uint8_t>{1, 0, 0, 0, 1, 2, 3, 4}));
  EXPECT_EQ(bytes[8], 0xee);
  EXPECT_EQ(bytes[40], 0x55);
  EXPECT_EQ(bytes[88], 0x77);
  EXPECT_EQ(bytes[116], 0x11);
  EXPECT_EQ(bytes[132], 0x22);
  Initiation back;
  ASSERT_TRUE(decode(bytes, back));
  EXPECT_EQ(back.sender, i.sender);
  EXPECT_EQ(back.mac2, i.mac2);

  Response r;
  r.sender = 7;
  r.receiver = 0xa0b0c0d0;
  r.mac1.fill(3);
  const auto rb = encode(r);
  EXPECT_EQ(rb[0], 2);
  EXPECT_EQ(rb[8], 0xd0);
  EXPECT_EQ(rb[60], 3);
  Response rback;
  ASSERT_TRUE(decode(rb, rback));
  EXPECT_EQ(rback.receiver, r.receiver);

  CookieReply c;
  c.receiver = 9;
  c.nonce.fill(4);
  c.encrypted_cookie.fill(5);
  const auto cb = encode(c);
  EXPECT_EQ(cb[0], 3);
  EXPECT_EQ(cb[8], 4);
  EXPECT_EQ(cb[32], 5);
  CookieReply cback;
  ASSERT_TRUE(decode(cb, cback));
  EXPECT_EQ(cback.nonce, c.nonce);

  std::array<uint8_t, kKeepaliveSize> t{};
  encode(TransportHeader{.receiver = 1, .counter = 0x0102030405060708ULL},
         std::span<uint8_t, kTransportHeaderSize>(t.data(), kTransportHeaderSize));
  EXPECT_EQ(t[0], 4);
  EXPECT_EQ(t[8], 0x08);
  EXPECT_EQ(t[15], 0x01);
  TransportHeader h;
  ASSERT_TRUE(decode(t, h));
  EXPECT_EQ(h.counter, 0x0102030405060708ULL);
}

TEST(WireguardMessages, EveryOtherDatagramIsNamed) {
  struct Case {
    std::vector<uint8_t> datagram;
    Classified want;
  };
  auto of = [](uint8_t type, size_t size) {
    std::vector<uint8_t> d(size);
    d[0] = type;
    return d;
  };
  std::vector<uint8_t> reserved = of(1, kInitiationSize);
  reserved[3] = 1;
  const std::vector<Case> cases = {
      {{}, Classified::kTooShort},
      {of(4, 31), Classified::kTooShort},
      {of(4, 32), Classified::kTransport},
      {of(4, 1500), Classified::kTransport},
      {of(1, kInitiationSize), Classified::kInitiation},
      {of(1, kInitiationSize + 1), Classified::kBadLength},
      {of(2, kResponseSize), Classified::kResponse},
      {of(2, kInitiationSize), Classified::kBadLength},
      {of(3, kCookieReplySize), Classified::kCookieReply},
      {of(3, 63), Classified::kBadLength},
      {of(0, 100), Classified::kUnknownType},
      {of(5, 100), Classified::kUnknownType},
      {reserved, Classified::kUnknownType},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(classify(c.datagram), c.want)
        << c.datagram.size() << " bytes: " << name_of(classify(c.datagram));
  }
  Initiation i;
  EXPECT_FALSE(decode(of(1, 147), i));
  Response r;
  EXPECT_FALSE(decode(of(1, kInitiationSize), r)) << "another type";
}

}  // namespace
}  // namespace vigil::wg

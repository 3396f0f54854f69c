// The probe's wire form: every field survives encode and decode in network order; the tunnel's
// padding is allowed, anything else malformed is refused; an IP packet is never a probe.
#include "sdwan/paths/probe_message.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace vigil::paths {
namespace {

const ProbeMessage kProbe{.link = 2,
                          .interval_ms = 0x0a0b,
                          .epoch = 0xa1a2a3a4,
                          .sequence = 0x01020304,
                          .sent_ns = 0x1122334455667788,
                          .echo_sequence = 9,
                          .echo_sent_ns = -5,
                          .echo_received_ns = 123456789,
                          .received = 77,
                          .jitter_us = 0xfeedbeef};

std::vector<uint8_t> encoded(const ProbeMessage& m) {
  std::array<uint8_t, kProbeSize> out{};
  encode(m, out);
  return {out.begin(), out.end()};
}

TEST(ProbeMessage, RoundTripsInNetworkOrder) {
  const auto bytes = encoded(kProbe);
  ASSERT_EQ(bytes.size(), 48u);
  EXPECT_EQ(bytes[0], kProbeType);
  EXPECT_EQ(bytes[1], 2);
  EXPECT_EQ(bytes[2], 0x0a);
  EXPECT_EQ(bytes[3], 0x0b);
  EXPECT_EQ(bytes[4], 0xa1);
  EXPECT_EQ((std::vector<uint8_t>(bytes.begin() + 8, bytes.begin() + 12)),
            (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(bytes[12], 0x11);
  EXPECT_EQ(bytes[19], 0x88);
  EXPECT_EQ(bytes[44], 0xfe);
  EXPECT_EQ(bytes[47], 0xef);
  EXPECT_EQ(decode(bytes), kProbe);
  EXPECT_TRUE(is_probe(bytes));
}

TEST(ProbeMessage, PaddingIsAllowedAndMalformedIsRefused) {
  auto padded = encoded(kProbe);
  padded.resize(60, 0);  // a longer padding than the tunnel's own, but under 16
  EXPECT_EQ(decode(padded), kProbe);

  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
  };
  std::vector<Case> cases;
  auto short_one = encoded(kProbe);
  short_one.pop_back();
  cases.push_back({"short", short_one});
  auto long_one = encoded(kProbe);
  long_one.resize(64, 0);
  cases.push_back({"more than padding", long_one});
  auto wrong_type = encoded(kProbe);
  wrong_type[0] = 0x02;
  cases.push_back({"another type", wrong_type});
  ProbeMessage zero = kProbe;
  zero.sequence = 0;
  cases.push_back({"sequence 0", encoded(zero)});
  zero = kProbe;
  zero.epoch = 0;
  cases.push_back({"epoch 0", encoded(zero)});
  zero = kProbe;
  zero.interval_ms = 0;
  cases.push_back({"interval 0", encoded(zero)});
  cases.push_back({"empty", {}});
  for (const Case& c : cases) {
    EXPECT_FALSE(decode(c.bytes).has_value()) << c.what;
  }
}

TEST(ProbeMessage, IpPacketsAreNotProbes) {
  const std::vector<uint8_t> v4{0x45, 0, 0, 20};
  const std::vector<uint8_t> v6{0x60, 0, 0, 0};
  EXPECT_FALSE(is_probe(v4));
  EXPECT_FALSE(is_probe(v6));
  EXPECT_FALSE(is_probe({}));
}

}  // namespace
}  // namespace vigil::paths

// Damping next hops whose MAC changes, on a made-up clock: a replaced MAC is held for the
// settle time, a neighbour that flaps is damped (its MACs held) until it has been quiet, and
// what is remembered stays bounded.
#include "dataplane/offload/neighbour_damping.h"

#include <gtest/gtest.h>

namespace vigil::dp {
namespace {

using namespace std::chrono_literals;
using Clock = NeighbourDamping::Clock;

const net::IpAddress kGateway = *net::IpAddress::parse("198.18.0.1");

Mac mac(uint8_t last) {
  return {2, 0, 0, 0, 0, last};
}

TEST(NeighbourDamping, AReplacedMacIsHeldForTheSettleTimeOnly) {
  NeighbourDamping d;
  const Clock::time_point t0{100s};
  EXPECT_FALSE(d.changed(1, kGateway, mac(1), mac(2), t0));
  EXPECT_TRUE(d.holds(1, mac(1), t0 + 500ms));
  EXPECT_FALSE(d.holds(1, mac(2), t0 + 500ms));  // the new MAC is offloaded to at once
  EXPECT_FALSE(d.holds(2, mac(1), t0 + 500ms));  // on its own port only
  EXPECT_FALSE(d.holds(1, mac(1), t0 + 2s));
  EXPECT_EQ(d.damped(t0), 0u);
}

TEST(NeighbourDamping, AFlappingNeighbourIsDampedUntilItHasBeenQuiet) {
  NeighbourDamping d;
  const Clock::time_point t0{100s};
  EXPECT_FALSE(d.changed(1, kGateway, mac(1), mac(2), t0));
  EXPECT_FALSE(d.changed(1, kGateway, mac(2), mac(3), t0 + 1s));
  EXPECT_TRUE(d.changed(1, kGateway, mac(3), mac(4), t0 + 2s));   // the third in 10 s
  EXPECT_FALSE(d.changed(1, kGateway, mac(4), mac(5), t0 + 3s));  // said once
  EXPECT_EQ(d.damped(t0 + 3s), 1u);
  EXPECT_TRUE(d.holds(1, mac(5), t0 + 10s));   // even the MAC it has now
  EXPECT_TRUE(d.holds(1, mac(3), t0 + 10s));   // and those it had since it was damped
  EXPECT_FALSE(d.holds(1, mac(5), t0 + 40s));  // quiet for the damping time
  EXPECT_EQ(d.damped(t0 + 40s), 0u);
}

TEST(NeighbourDamping, ChangesFarApartNeverDamp) {
  NeighbourDamping d;
  Clock::time_point t{100s};
  for (uint8_t i = 0; i < 10; ++i, t += 11s) {
    EXPECT_FALSE(d.changed(1, kGateway, mac(i), mac(static_cast<uint8_t>(i + 1)), t));
  }
  EXPECT_EQ(d.damped(t), 0u);
}

TEST(NeighbourDamping, WhatItRemembersIsBounded) {
  NeighbourDamping d({.flaps = 3, .max_tracked = 64});
  const Clock::time_point t0{100s};
  for (uint32_t i = 0; i < 10'000; ++i) {
    const auto host = net::IpAddress::parse("10.0." + std::to_string(i / 250) + "." +
                                            std::to_string(i % 250 + 1));
    d.changed(0, *host, mac(static_cast<uint8_t>(i)), mac(static_cast<uint8_t>(i + 1)),
              t0 + std::chrono::milliseconds(i));
  }
  EXPECT_LE(d.damped(t0 + 10s), 64u);
}

}  // namespace
}  // namespace vigil::dp

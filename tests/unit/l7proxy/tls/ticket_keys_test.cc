#include "l7proxy/tls/ticket_keys.h"

#include <gtest/gtest.h>

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

TEST(TicketKeyRing, RotatesAndKeepsTheOldKeysForAWhile) {
  TicketKeyRing ring(std::chrono::hours(1), 2);
  const auto t0 = TicketKeyRing::Clock::time_point{} + std::chrono::hours(100);
  const auto first = ring.at(t0);
  ASSERT_EQ(first->keys.size(), 1u);
  EXPECT_EQ(ring.at(t0 + 59min), first) << "not yet an hour";
  const auto second = ring.at(t0 + 61min);
  ASSERT_EQ(second->keys.size(), 2u);
  EXPECT_NE(second->keys[0].name, first->keys[0].name);
  EXPECT_EQ(second->keys[1].name, first->keys[0].name);
  const auto third = ring.at(t0 + 122min);
  const auto fourth = ring.at(t0 + 183min);
  ASSERT_EQ(fourth->keys.size(), 3u) << "the newest and two before it";
  EXPECT_EQ(fourth->keys[2].name, second->keys[0].name);
  EXPECT_EQ(ring.lifetime(), std::chrono::hours(3));
  (void)third;
  // After a quiet night only the new key is kept: the old ones would have expired anyway.
  const auto morning = ring.at(t0 + std::chrono::hours(12));
  ASSERT_EQ(morning->keys.size(), 1u);
  EXPECT_NE(morning->keys[0].name, fourth->keys[0].name);
}

}  // namespace
}  // namespace vigil::l7

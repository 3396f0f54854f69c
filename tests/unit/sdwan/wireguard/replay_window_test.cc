// Each counter once, late ones within 8,128 of the highest, nothing at the message limit.
#include "sdwan/wireguard/replay_window.h"

#include <gtest/gtest.h>

namespace vigil::wg {
namespace {

constexpr uint64_t kLimit = ~uint64_t{0} - (uint64_t{1} << 13);  // REJECT_AFTER_MESSAGES

TEST(ReplayWindow, EachCounterOnceInAnyOrderWithinTheWindow) {
  ReplayWindow w;
  EXPECT_TRUE(w.take(0, kLimit));
  EXPECT_FALSE(w.take(0, kLimit)) << "again";
  EXPECT_TRUE(w.take(2, kLimit));
  EXPECT_TRUE(w.take(1, kLimit)) << "late but new";
  EXPECT_FALSE(w.take(1, kLimit));
  EXPECT_TRUE(w.take(20000, kLimit));
  EXPECT_FALSE(w.take(2, kLimit)) << "too old: more than the window behind";
  EXPECT_TRUE(w.take(20000 - ReplayWindow::kWindow, kLimit)) << "just inside";
  EXPECT_FALSE(w.take(20000 - ReplayWindow::kWindow - 1, kLimit));
  EXPECT_TRUE(w.take(19999, kLimit));
  EXPECT_FALSE(w.take(20000, kLimit));
}

TEST(ReplayWindow, AJumpForwardForgetsWhatWasSeenBehindTheWindow) {
  ReplayWindow w;
  for (uint64_t c = 0; c < 3000; ++c) {
    ASSERT_TRUE(w.take(c, kLimit)) << c;
  }
  EXPECT_TRUE(w.take(1'000'000, kLimit));
  // The ring's blocks were reused: counters just behind the new highest are new to it.
  EXPECT_TRUE(w.take(1'000'000 - 100, kLimit));
  EXPECT_FALSE(w.take(2999, kLimit)) << "far behind";
}

TEST(ReplayWindow, NothingAtOrPastTheLimit) {
  ReplayWindow w;
  EXPECT_FALSE(w.take(kLimit, kLimit));
  EXPECT_TRUE(w.take(kLimit - 1, kLimit));
}

}  // namespace
}  // namespace vigil::wg

// The timing wheel: a timeout fires within a tick of its due time and never early, re-arming
// and cancelling move it, timers past one turn of the wheel wait their turn, and a timer may
// cancel or destroy another due in the same tick from its callback.
#include "l7proxy/core/timer_wheel.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

namespace vigil::l7 {
namespace {

using std::chrono::milliseconds;
using Clock = TimerWheel::Clock;

class CallbackTimer final : public Timer {
 public:
  std::function<void()> fire;
  int fired = 0;

 private:
  void on_timer() override {
    ++fired;
    if (fire) {
      fire();
    }
  }
};

TEST(TimerWheel, FiresOnceDueAndNeverEarly) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  CallbackTimer t;
  wheel.arm(t, milliseconds(100), t0);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(wheel.advance(t0 + milliseconds(99)), 0u);
  EXPECT_EQ(t.fired, 0);
  EXPECT_EQ(wheel.advance(t0 + milliseconds(121)), 1u);
  EXPECT_EQ(t.fired, 1);
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(wheel.advance(t0 + milliseconds(500)), 0u);
}

TEST(TimerWheel, RearmMovesTheDueTimeAndCancelStopsIt) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  CallbackTimer a, b;
  wheel.arm(a, milliseconds(50), t0);
  wheel.arm(a, milliseconds(300), t0 + milliseconds(40));  // re-armed before it fired
  wheel.arm(b, milliseconds(50), t0);
  wheel.cancel(b);
  EXPECT_EQ(wheel.armed(), 1u);
  wheel.advance(t0 + milliseconds(200));
  EXPECT_EQ(a.fired, 0);
  EXPECT_EQ(b.fired, 0);
  wheel.advance(t0 + milliseconds(400));
  EXPECT_EQ(a.fired, 1);
}

TEST(TimerWheel, TimersBeyondOneTurnWaitTheirTurn) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  CallbackTimer t;
  const auto turn = TimerWheel::kTick * static_cast<int64_t>(TimerWheel::kSlots);
  wheel.arm(t, turn + milliseconds(500), t0);
  wheel.advance(t0 + turn);
  EXPECT_EQ(t.fired, 0);
  wheel.advance(t0 + turn + milliseconds(400));
  EXPECT_EQ(t.fired, 0);
  wheel.advance(t0 + turn + milliseconds(600));
  EXPECT_EQ(t.fired, 1);
}

TEST(TimerWheel, ALongStallFiresEverythingDue) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  CallbackTimer a, b;
  wheel.arm(a, milliseconds(20), t0);
  wheel.arm(b, std::chrono::seconds(30), t0);
  EXPECT_EQ(wheel.advance(t0 + std::chrono::seconds(60)), 2u);
}

TEST(TimerWheel, ACallbackMayDestroyAnotherDueTimerAndArmItself) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  auto victim = std::make_unique<CallbackTimer>();
  CallbackTimer killer;
  int rearmed = 0;
  killer.fire = [&] {
    victim.reset();  // due in the same tick: must not fire, nor be touched once freed
    if (rearmed++ == 0) {
      wheel.arm(killer, milliseconds(10), t0 + milliseconds(30));
    }
  };
  wheel.arm(*victim, milliseconds(20), t0);
  wheel.arm(killer, milliseconds(20), t0);
  wheel.advance(t0 + milliseconds(35));
  EXPECT_EQ(victim, nullptr);
  EXPECT_GE(killer.fired, 1);
  wheel.advance(t0 + milliseconds(100));
  EXPECT_EQ(killer.fired, 2);
  EXPECT_EQ(wheel.armed(), 0u);
}

TEST(TimerWheel, WaitSaysHowLongTheLoopMaySleep) {
  const auto t0 = Clock::now();
  TimerWheel wheel(t0);
  EXPECT_FALSE(wheel.wait(t0).has_value());
  CallbackTimer t;
  wheel.arm(t, milliseconds(100), t0);
  ASSERT_TRUE(wheel.wait(t0).has_value());
  EXPECT_GE(*wheel.wait(t0), milliseconds(100));  // sleeps until that timer's tick, not 10 ms
  EXPECT_LE(*wheel.wait(t0), milliseconds(120));
}

}  // namespace
}  // namespace vigil::l7

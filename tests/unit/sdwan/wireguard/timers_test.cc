// A peer's timers on a clock the test moves: retries with jitter, giving up after 90 s, the
// keepalive that answers data, the new handshake for unanswered data, rekeying by age and
// count, the rate of initiations, zeroing keys, and the persistent keepalive.
#include "sdwan/wireguard/timers.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace vigil::wg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class TimersTest : public ::testing::Test {
 protected:
  TimerPoint t0_ = TimerPoint{} + seconds(1000);
  milliseconds jitter_{100};
  PeerTimers timers_{[this] { return jitter_; }, std::nullopt};

  TimerActions at(seconds s, milliseconds ms = milliseconds(0)) {
    return timers_.due(t0_ + s + ms);
  }
};

TEST_F(TimersTest, AnUnansweredInitiationIsRetriedWithJitterThenGivenUp) {
  timers_.initiation_sent(t0_);
  EXPECT_FALSE(at(seconds(5)).send_initiation) << "5 s + 100 ms of jitter not yet passed";
  EXPECT_TRUE(at(seconds(5), milliseconds(100)).send_initiation);
  EXPECT_FALSE(at(seconds(6)).send_initiation) << "fired once";
  // Retries every 5 s + jitter, until 90 s after the first.
  TimerPoint now = t0_ + seconds(5) + milliseconds(100);
  int retries = 0;
  bool gave_up = false;
  while (!gave_up && retries < 100) {
    timers_.initiation_sent(now);
    now += seconds(5) + jitter_;
    const TimerActions a = timers_.due(now);
    retries += a.send_initiation ? 1 : 0;
    gave_up = a.give_up_handshake;
  }
  EXPECT_TRUE(gave_up);
  EXPECT_EQ(retries, 16) << "90 s / 5.1 s, the first try aside";
  EXPECT_EQ(timers_.next(), now + seconds(540)) << "then only forgetting the handshake";
  EXPECT_TRUE(timers_.due(now + seconds(540)).zero_keys);
}

TEST_F(TimersTest, ACompletedHandshakeStopsTheRetriesAndArmsKeyZeroing) {
  timers_.initiation_sent(t0_);
  timers_.handshake_complete(t0_ + seconds(1));
  EXPECT_FALSE(at(seconds(10)).send_initiation);
  EXPECT_FALSE(at(seconds(540)).zero_keys);
  EXPECT_TRUE(at(seconds(541)).zero_keys) << "3 x REJECT_AFTER_TIME after the session";
}

TEST_F(TimersTest, ReceivedDataIsAnsweredByAKeepaliveUnlessWeSentSomething) {
  timers_.authenticated_received(t0_, /*data=*/true);
  EXPECT_FALSE(at(seconds(9)).send_keepalive);
  EXPECT_TRUE(at(seconds(10)).send_keepalive);
  timers_.authenticated_received(t0_ + seconds(20), true);
  timers_.authenticated_sent(t0_ + seconds(21));
  EXPECT_FALSE(at(seconds(31)).send_keepalive) << "our packet answered it";
  timers_.authenticated_received(t0_ + seconds(40), /*data=*/false);
  EXPECT_FALSE(at(seconds(60)).send_keepalive) << "a keepalive is not answered";
}

TEST_F(TimersTest, SentDataWithoutAnAnswerStartsANewHandshake) {
  timers_.data_sent(t0_);
  timers_.data_sent(t0_ + seconds(3));  // armed once, from the first
  EXPECT_FALSE(at(seconds(15)).send_initiation) << "15 s and its jitter";
  EXPECT_TRUE(at(seconds(15), milliseconds(100)).send_initiation);
  timers_.data_sent(t0_ + seconds(20));
  timers_.authenticated_received(t0_ + seconds(21), false);
  EXPECT_FALSE(at(seconds(40)).send_initiation) << "answered";
}

TEST_F(TimersTest, InitiationsGoOutAtMostOncePerRekeyTimeout) {
  timers_.initiation_sent(t0_);
  EXPECT_FALSE(timers_.may_initiate(t0_ + seconds(4)));
  EXPECT_TRUE(timers_.may_initiate(t0_ + seconds(5)));
  // Unanswered data asks for a handshake 1 s after the last initiation: it waits for the rate.
  timers_.data_sent(t0_ - seconds(14));
  EXPECT_FALSE(at(seconds(1)).send_initiation);
  EXPECT_TRUE(at(seconds(5), milliseconds(100)).send_initiation);
}

TEST_F(TimersTest, APersistentKeepaliveGoesOutWhenTheLinkIsQuiet) {
  PeerTimers t([] { return milliseconds(0); }, seconds(25));
  t.authenticated_sent(t0_);
  EXPECT_FALSE(t.due(t0_ + seconds(24)).send_keepalive);
  EXPECT_TRUE(t.due(t0_ + seconds(25)).send_keepalive);
  EXPECT_TRUE(t.due(t0_ + seconds(50)).send_keepalive) << "and again";
  EXPECT_EQ(t.next(), t0_ + seconds(75));
  PeerTimers off([] { return milliseconds(0); }, seconds(0));
  off.authenticated_sent(t0_);
  EXPECT_FALSE(off.due(t0_ + seconds(1)).send_keepalive) << "0 is off, as in wg";
}

TEST(SessionAge, UsableRekeyAndRejectLimits) {
  const TimerPoint made = TimerPoint{} + seconds(100);
  EXPECT_TRUE(session_usable(made, 0, made + seconds(179)));
  EXPECT_FALSE(session_usable(made, 0, made + seconds(180)));
  EXPECT_FALSE(session_usable(made, ~uint64_t{0} - (uint64_t{1} << 13), made));
  EXPECT_FALSE(rekey_on_send(true, made, 0, made + seconds(119)));
  EXPECT_TRUE(rekey_on_send(true, made, 0, made + seconds(120)));
  EXPECT_FALSE(rekey_on_send(false, made, 0, made + seconds(150))) << "the initiator rekeys";
  EXPECT_TRUE(rekey_on_send(false, made, kRekeyAfterMessages, made));
  EXPECT_FALSE(rekey_on_receive(true, made, made + seconds(164)));
  EXPECT_TRUE(rekey_on_receive(true, made, made + seconds(165)));
  EXPECT_FALSE(rekey_on_receive(false, made, made + seconds(170)));
}

// The test build's divisor of the protocol's times ($VIGIL_WG_TIME_DIVISOR), read once per
// process: each case runs in a process of its own (a death test re-running this binary), where
// nothing has read it yet. Other builds ignore the variable.
int divisor_with(const char* value) {
  ::setenv("VIGIL_WG_TIME_DIVISOR", value, 1);
  return static_cast<int>(time_divisor());
}

TEST(TimeDivisorDeathTest, OnlyATestBuildDividesAndOnlyBySaneValues) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#if VIGIL_FAULT_POINTS
  constexpr int kTwenty = 20;
#else
  constexpr int kTwenty = 1;
#endif
  EXPECT_EXIT(std::exit(divisor_with("20")), ::testing::ExitedWithCode(kTwenty), "");
  EXPECT_EXIT(std::exit(divisor_with("0")), ::testing::ExitedWithCode(1), "") << "refused";
  EXPECT_EXIT(std::exit(divisor_with("5000")), ::testing::ExitedWithCode(1), "") << "too many";
  EXPECT_EXIT(std::exit(divisor_with("fast")), ::testing::ExitedWithCode(1), "");
  // REKEY_AFTER_TIME, 120 s: 6 s in a test build told to divide by 20.
  EXPECT_EXIT(
      {
        ::setenv("VIGIL_WG_TIME_DIVISOR", "20", 1);
        std::exit(static_cast<int>(scaled(seconds(120)).count() / 1'000'000'000));
      },
      ::testing::ExitedWithCode(120 / kTwenty), "");
}

}  // namespace
}  // namespace vigil::wg

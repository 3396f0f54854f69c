// When a WireGuard peer must act on its own (the whitepaper's section 6, with wireguard-go's
// timers as the reference): retry an initiation nobody answered, send a keepalive after
// receiving data it has not answered, start a new handshake when data sent got no answer,
// rekey an aging session, forget keys nobody renewed, and the optional persistent keepalive.
// Events come in with the time; due() says what is now to be done. No thread, no sleep: the
// owner polls it (vigil-dp's control thread) and the tests drive the clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace vigil::wg {

using TimerClock = std::chrono::steady_clock;
using TimerPoint = TimerClock::time_point;
using std::chrono::milliseconds;
using std::chrono::seconds;

inline constexpr uint64_t kRekeyAfterMessages = uint64_t{1} << 60;
inline constexpr seconds kRekeyAfterTime{120};
inline constexpr seconds kRejectAfterTime{180};
inline constexpr seconds kRekeyAttemptTime{90};
inline constexpr seconds kRekeyTimeout{5};
inline constexpr seconds kKeepaliveTimeout{10};
inline constexpr milliseconds kRekeyTimeoutJitterMax{334};

// The protocol's times are divided by this: $VIGIL_WG_TIME_DIVISOR (1-1000) in a test build
// (-Dfault_points=true), so that a lab test sees sessions rekeyed and rejected within seconds;
// 1 in every other build, whatever the environment says. Read once.
uint32_t time_divisor();
template <class Rep, class Period>
std::chrono::nanoseconds scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d) / time_divisor();
}

// What is due now (several may be at once).
struct TimerActions {
  bool send_initiation = false;    // a retry, or a new handshake for data that got no answer
  bool send_keepalive = false;     // answer data received, or the persistent keepalive
  bool give_up_handshake = false;  // 90 s of unanswered initiations: drop what waits for it
  bool zero_keys = false;          // no new session for 3 × REJECT_AFTER_TIME: forget all keys
};

class PeerTimers {
 public:
  // `jitter` gives 0 to kRekeyTimeoutJitterMax for each retry (fixed in tests); random when
  // empty.
  PeerTimers(std::function<milliseconds()> jitter, std::optional<seconds> persistent_keepalive);

  // An initiation went out: the first of an attempt starts the 90 s budget.
  void initiation_sent(TimerPoint now);
  // A session was made (our initiation answered, or a response of ours confirmed).
  void handshake_complete(TimerPoint now);
  // A transport packet with data (not a keepalive) went out.
  void data_sent(TimerPoint now);
  // Any authenticated packet went out / came in; `data`: it was not a keepalive.
  void authenticated_sent(TimerPoint now);
  void authenticated_received(TimerPoint now, bool data);

  TimerActions due(TimerPoint now);
  // The earliest time something may be due, for the owner's sleep.
  std::optional<TimerPoint> next() const;

  // Whether an initiation may go out now: at most one per REKEY_TIMEOUT.
  bool may_initiate(TimerPoint now) const;

 private:
  std::function<milliseconds()> jitter_;
  std::optional<seconds> persistent_keepalive_;
  std::optional<TimerPoint> last_initiation_;
  std::optional<TimerPoint> attempt_started_;  // the current attempt's first initiation
  std::optional<TimerPoint> retransmit_at_;
  std::optional<TimerPoint> keepalive_at_;
  std::optional<TimerPoint> new_handshake_at_;
  std::optional<TimerPoint> zero_keys_at_;
  std::optional<TimerPoint> persistent_at_;
};

// Whether a session made at `made` (by the side `initiator`) that sent `sent` messages is
// still usable: younger than REJECT_AFTER_TIME and its counter not spent.
bool session_usable(TimerPoint made, uint64_t sent, TimerPoint now);
// Whether sending on it should start a new handshake first (it stays usable meanwhile): its
// counter or, for the side that initiated it, its age.
bool rekey_on_send(bool initiator, TimerPoint made, uint64_t sent, TimerPoint now);
// Whether a packet received on it should: an initiator's session close to REJECT_AFTER_TIME.
bool rekey_on_receive(bool initiator, TimerPoint made, TimerPoint now);

}  // namespace vigil::wg

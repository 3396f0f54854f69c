#include "sdwan/wireguard/timers.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "sdwan/wireguard/crypto.h"
#include "sdwan/wireguard/transport.h"

namespace vigil::wg {
namespace {

// Whether `at` is set and passed; unsets it when it is.
bool fired(std::optional<TimerPoint>& at, TimerPoint now) {
  if (at && *at <= now) {
    at.reset();
    return true;
  }
  return false;
}

milliseconds random_jitter() {
  std::array<uint8_t, 2> r{};
  random_bytes(r);
  return milliseconds((r[0] | r[1] << 8) % kRekeyTimeoutJitterMax.count());
}

}  // namespace

uint32_t time_divisor() {
#if VIGIL_FAULT_POINTS
  static const uint32_t divisor = [] {
    const char* text = std::getenv("VIGIL_WG_TIME_DIVISOR");
    const long n = text != nullptr ? std::strtol(text, nullptr, 10) : 1;
    return static_cast<uint32_t>(n >= 1 && n <= 1000 ? n : 1);
  }();
  return divisor;
#else
  return 1;
#endif
}

PeerTimers::PeerTimers(std::function<milliseconds()> jitter,
                       std::optional<seconds> persistent_keepalive)
    : jitter_(jitter ? std::move(jitter) : random_jitter),
      persistent_keepalive_(persistent_keepalive) {
  if (persistent_keepalive_ && persistent_keepalive_->count() <= 0) {
    persistent_keepalive_.reset();  // 0 is off, as in wg
  }
}

void PeerTimers::initiation_sent(TimerPoint now) {
  last_initiation_ = now;
  if (!attempt_started_) {
    attempt_started_ = now;
  }
  retransmit_at_ = now + scaled(kRekeyTimeout) + jitter_();
}

void PeerTimers::handshake_complete(TimerPoint now) {
  attempt_started_.reset();
  retransmit_at_.reset();
  zero_keys_at_ = now + 3 * scaled(kRejectAfterTime);
}

void PeerTimers::data_sent(TimerPoint now) {
  if (!new_handshake_at_) {
    // Jittered like a retry: two peers whose data both went unanswered must not initiate at
    // the same moment again and again.
    new_handshake_at_ = now + scaled(kKeepaliveTimeout) + scaled(kRekeyTimeout) + jitter_();
  }
}

void PeerTimers::authenticated_sent(TimerPoint now) {
  keepalive_at_.reset();  // anything we sent answers what we received
  if (persistent_keepalive_) {
    persistent_at_ = now + *persistent_keepalive_;
  }
}

void PeerTimers::authenticated_received(TimerPoint now, bool data) {
  new_handshake_at_.reset();  // our data was answered
  if (data && !keepalive_at_) {
    keepalive_at_ = now + scaled(kKeepaliveTimeout);
  }
  if (persistent_keepalive_) {
    persistent_at_ = now + *persistent_keepalive_;
  }
}

TimerActions PeerTimers::due(TimerPoint now) {
  TimerActions a;
  if (fired(retransmit_at_, now)) {
    if (attempt_started_ && now - *attempt_started_ >= scaled(kRekeyAttemptTime)) {
      a.give_up_handshake = true;
      attempt_started_.reset();
      if (!zero_keys_at_) {
        zero_keys_at_ = now + 3 * scaled(kRejectAfterTime);  // the handshake's secrets too
      }
    } else {
      a.send_initiation = true;
    }
  }
  if (fired(new_handshake_at_, now) && !a.give_up_handshake) {
    a.send_initiation = true;
  }
  if (fired(keepalive_at_, now)) {
    a.send_keepalive = true;
  }
  if (fired(persistent_at_, now)) {
    a.send_keepalive = true;
    persistent_at_ = now + *persistent_keepalive_;
  }
  if (fired(zero_keys_at_, now)) {
    a.zero_keys = true;
  }
  if (a.send_initiation && !may_initiate(now)) {
    // Not yet: the retry comes when the rate allows it.
    a.send_initiation = false;
    retransmit_at_ = *last_initiation_ + scaled(kRekeyTimeout);
  }
  return a;
}

std::optional<TimerPoint> PeerTimers::next() const {
  std::optional<TimerPoint> out;
  for (const auto& at :
       {retransmit_at_, keepalive_at_, new_handshake_at_, zero_keys_at_, persistent_at_}) {
    if (at && (!out || *at < *out)) {
      out = at;
    }
  }
  return out;
}

bool PeerTimers::may_initiate(TimerPoint now) const {
  return !last_initiation_ || now - *last_initiation_ >= scaled(kRekeyTimeout);
}

bool session_usable(TimerPoint made, uint64_t sent, TimerPoint now) {
  return now - made < scaled(kRejectAfterTime) && sent < kRejectAfterMessages;
}

bool rekey_on_send(bool initiator, TimerPoint made, uint64_t sent, TimerPoint now) {
  return sent >= kRekeyAfterMessages || (initiator && now - made >= scaled(kRekeyAfterTime));
}

bool rekey_on_receive(bool initiator, TimerPoint made, TimerPoint now) {
  return initiator &&
         now - made >= scaled(kRejectAfterTime) - scaled(kKeepaliveTimeout) - scaled(kRekeyTimeout);
}

}  // namespace vigil::wg

// mac1, mac2 and cookies (the whitepaper's section 5.4.4 and 5.4.7): every handshake message
// carries mac1, keyed by the receiver's public key, so a responder spends no DH on datagrams
// from someone who does not know it. Under load a responder also wants mac2, keyed by a
// cookie only the source address can have received: a cookie reply tells the sender its
// cookie, sealed with XChaCha20-Poly1305 to the mac1 it answers.
#pragma once

#include <chrono>
#include <optional>
#include <span>

#include "sdwan/wireguard/crypto.h"
#include "sdwan/wireguard/messages.h"
#include "sdwan/wireguard/noise.h"

namespace vigil::wg {

using Clock = std::chrono::steady_clock;
inline constexpr std::chrono::seconds kCookieRefreshTime{120};

// The sending side, one per peer: seals our messages to it, takes the cookies it gives us.
class CookieGenerator {
 public:
  explicit CookieGenerator(const PeerIdentity& peer)
      : mac1_key_(peer.mac1_key), cookie_key_(peer.cookie_key) {}

  // Fills mac1, and mac2 when we hold a cookie younger than kCookieRefreshTime, of a handshake
  // message's bytes (an initiation or a response).
  void seal(std::span<uint8_t> message, Clock::time_point now);
  // A cookie reply to the last message sealed: its cookie kept if it decrypts to that mac1.
  bool consume(const CookieReply& reply, Clock::time_point now);

 private:
  Hash mac1_key_;
  Hash cookie_key_;
  std::optional<Mac> last_mac1_;
  std::optional<Mac> cookie_;
  Clock::time_point cookie_at_{};
};

// The receiving side, one per interface: checks macs on messages to us and hands out cookies.
// `source` is the datagram's source as bytes (address, then port); only this side ever
// computes a cookie from it, so the encoding is ours.
class CookieChecker {
 public:
  explicit CookieChecker(const LocalIdentity& local)
      : mac1_key_(local.mac1_key), cookie_key_(local.cookie_key) {}

  bool mac1_ok(std::span<const uint8_t> message) const;
  // mac2 under load: made with the cookie for `source` from our current secret.
  bool mac2_ok(std::span<const uint8_t> message, std::span<const uint8_t> source,
               Clock::time_point now) const;
  // The reply to a handshake message without a good mac2 (the secret renewed when old); the
  // message is an initiation or a response (classify() said so).
  CookieReply reply(std::span<const uint8_t> message, std::span<const uint8_t> source,
                    Clock::time_point now);

 private:
  Mac cookie_for(std::span<const uint8_t> source) const;

  Hash mac1_key_;
  Hash cookie_key_;
  Key secret_{};
  std::optional<Clock::time_point> secret_at_;
};

}  // namespace vigil::wg

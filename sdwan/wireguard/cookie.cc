#include "sdwan/wireguard/cookie.h"

#include <algorithm>

namespace vigil::wg {
namespace {

// The smallest handshake message there is room for macs in (type, index, two macs); checked
// so that no offset below can wrap. classify() gives only exact sizes, larger than this.
bool has_room_for_macs(std::span<const uint8_t> message) {
  return message.size() >= 8 + 2 * kMacSize;
}

}  // namespace

void CookieGenerator::seal(std::span<uint8_t> message, Clock::time_point now) {
  if (!has_room_for_macs(message)) {
    return;
  }
  const size_t m1 = mac1_offset(message.size());
  const size_t m2 = mac2_offset(message.size());
  const Mac mac1 = mac(mac1_key_, message.first(m1));
  std::copy(mac1.begin(), mac1.end(), message.begin() + static_cast<long>(m1));
  last_mac1_ = mac1;
  Mac mac2{};
  if (cookie_ && now - cookie_at_ < kCookieRefreshTime) {
    mac2 = mac(*cookie_, message.first(m2));
  }
  std::copy(mac2.begin(), mac2.end(), message.begin() + static_cast<long>(m2));
}

bool CookieGenerator::consume(const CookieReply& reply, Clock::time_point now) {
  if (!last_mac1_) {
    return false;  // we sent nothing a cookie could answer
  }
  Mac cookie{};
  if (!xaead_decrypt(cookie_key_, reply.nonce, reply.encrypted_cookie, *last_mac1_, cookie)) {
    return false;
  }
  cookie_ = cookie;
  cookie_at_ = now;
  return true;
}

bool CookieChecker::mac1_ok(std::span<const uint8_t> message) const {
  if (!has_room_for_macs(message)) {
    return false;
  }
  const size_t m1 = mac1_offset(message.size());
  const Mac want = mac(mac1_key_, message.first(m1));
  return equal_in_constant_time(want, message.subspan(m1, kMacSize));
}

Mac CookieChecker::cookie_for(std::span<const uint8_t> source) const {
  return mac(secret_, source);
}

bool CookieChecker::mac2_ok(std::span<const uint8_t> message, std::span<const uint8_t> source,
                            Clock::time_point now) const {
  if (!has_room_for_macs(message) || !secret_at_ || now - *secret_at_ >= kCookieRefreshTime) {
    return false;  // no cookie handed out from a current secret
  }
  const size_t m2 = mac2_offset(message.size());
  const Mac want = mac(cookie_for(source), message.first(m2));
  return equal_in_constant_time(want, message.subspan(m2, kMacSize));
}

CookieReply CookieChecker::reply(std::span<const uint8_t> message, std::span<const uint8_t> source,
                                 Clock::time_point now) {
  if (!secret_at_ || now - *secret_at_ >= kCookieRefreshTime) {
    random_bytes(secret_);
    secret_at_ = now;
  }
  CookieReply r;
  // The message's sender index: bytes 4-8 of an initiation or a response.
  r.receiver = uint32_t{message[4]} | uint32_t{message[5]} << 8 | uint32_t{message[6]} << 16 |
               uint32_t{message[7]} << 24;
  random_bytes(r.nonce);
  const Mac cookie = cookie_for(source);
  xaead_encrypt(cookie_key_, r.nonce, cookie,
                message.subspan(mac1_offset(message.size()), kMacSize), r.encrypted_cookie);
  return r;
}

}  // namespace vigil::wg

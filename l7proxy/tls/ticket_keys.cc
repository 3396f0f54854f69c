#include "l7proxy/tls/ticket_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <new>

namespace vigil::l7 {
namespace {

bool make_key(TicketKeyRing::Key& k, TicketKeyRing::Clock::time_point now) {
  k.created = now;
  return RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) == 1 &&
         RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size())) == 1 &&
         RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size())) == 1;
}

}  // namespace

TicketKeyRing::TicketKeyRing(Clock::duration rotation, size_t kept)
    : rotation_(rotation), kept_(kept) {}

TicketKeyRing::Keys::~Keys() {
  for (Key& k : keys) {
    OPENSSL_cleanse(&k, sizeof k);
  }
}

std::shared_ptr<const TicketKeyRing::Keys> TicketKeyRing::at(Clock::time_point now) noexcept {
  auto current = keys_.load(std::memory_order_acquire);
  try {
    while (!current || now - current->created >= rotation_) {
      auto next = std::make_shared<Keys>();
      next->created = now;
      if (!make_key(next->keys.emplace_back(), now)) {
        // A key that might be guessed would let anyone open resumed sessions: none is made,
        // and the old ones (if any) go on opening tickets until they expire.
        return current;
      }
      if (current) {
        for (const Key& k : current->keys) {
          if (next->keys.size() <= kept_ && now - k.created < lifetime()) {
            next->keys.push_back(k);
          }
        }
      }
      std::shared_ptr<const Keys> published = std::move(next);
      // Another worker may have rotated first: its keys win, these are dropped.
      if (keys_.compare_exchange_strong(current, published, std::memory_order_acq_rel)) {
        return published;
      }
    }
  } catch (const std::bad_alloc&) {
    return current;
  }
  return current;
}

}  // namespace vigil::l7

// The keys session tickets are sealed under (RFC 5077's layout: a 16-byte name, AES-256-CBC
// and HMAC-SHA-256 keys), shared by every worker and listener. The newest seals; it is
// replaced once it is `rotation` old, and the ones before it still open tickets for `kept`
// rotations more, so a ticket lives at most (kept + 1) rotations. Random keys never leave the
// process: a restart makes every ticket a full handshake, and nothing on disk can leak them.
// Rotation happens on the handshake that finds the newest key stale, so no thread runs for it;
// readers take a snapshot (an atomic shared pointer: no mutex, though libstdc++ guards the
// pointer's swap with a short spin). A key older than lifetime() is dropped at the rotation
// after it expires, however long the listener was quiet.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace vigil::l7 {

class TicketKeyRing {
 public:
  using Clock = std::chrono::steady_clock;

  struct Key {
    Clock::time_point created{};
    std::array<uint8_t, 16> name{};
    std::array<uint8_t, 32> aes{};
    std::array<uint8_t, 32> hmac{};
  };
  struct Keys {
    Keys() = default;
    Keys(const Keys&) = delete;
    Keys& operator=(const Keys&) = delete;
    ~Keys();                      // wiped
    Clock::time_point created{};  // the newest's
    std::vector<Key> keys;        // newest first
  };

  explicit TicketKeyRing(Clock::duration rotation = std::chrono::hours(1), size_t kept = 2);

  // The keys as of `now`, rotated first when the newest is `rotation` old. Null when no key
  // could be made (no randomness, no memory): OpenSSL's callback then makes no ticket. Never
  // throws: it runs inside OpenSSL's C frames.
  std::shared_ptr<const Keys> at(Clock::time_point now) noexcept;
  Clock::duration lifetime() const { return rotation_ * static_cast<int64_t>(kept_ + 1); }

 private:
  Clock::duration rotation_;
  size_t kept_;
  std::atomic<std::shared_ptr<const Keys>> keys_;
};

}  // namespace vigil::l7

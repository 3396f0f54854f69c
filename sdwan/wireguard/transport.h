// One session's transport messages (the whitepaper's section 5.4.6): our packets sealed under
// the send key with a counter that only grows, padded to a multiple of 16 bytes; theirs opened
// under the receive key, each counter taken once (the replay window). Single-writer: the
// thread that owns the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sdwan/wireguard/messages.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/replay_window.h"

namespace vigil::wg {

// REJECT_AFTER_MESSAGES: no counter at or past it is sent or taken.
inline constexpr uint64_t kRejectAfterMessages = ~uint64_t{0} - (uint64_t{1} << 13);
inline constexpr size_t kPaddingMultiple = 16;

// A packet of `length` bytes padded as wireguard-go and the kernel pad it: to a multiple of
// 16, but not past the tunnel's MTU (0: no MTU), so padding never makes a full-sized packet's
// datagram too big for the path.
inline constexpr size_t padded_size(size_t length, size_t mtu = 0) {
  const size_t padded = (length + kPaddingMultiple - 1) / kPaddingMultiple * kPaddingMultiple;
  return mtu == 0 || padded <= mtu ? padded : (length > mtu ? length : mtu);
}
// The datagram's size for a packet of `length` bytes: header, padded packet, tag.
inline constexpr size_t sealed_size(size_t length, size_t mtu = 0) {
  return kTransportHeaderSize + padded_size(length, mtu) + kTagSize;
}

enum class OpenResult { kOk, kNotTransport, kNotThisSession, kReplay, kBadTag, kTooLarge };
std::string_view name_of(OpenResult r);

class TransportSession {
 public:
  explicit TransportSession(const SessionKeys& keys)
      : keys_(keys), send_(keys.send), receive_(keys.receive) {}

  const SessionKeys& keys() const { return keys_; }
  uint64_t sent() const { return next_counter_; }

  // The transport datagram for `packet` (empty: a keepalive) in `out`, which holds
  // sealed_size(packet.size(), mtu) bytes; its size, or 0 once the counter is spent.
  size_t seal(std::span<const uint8_t> packet, std::span<uint8_t> out, size_t mtu = 0);
  // The same where the packet already is: `buffer` holds kTransportHeaderSize bytes of room,
  // then the packet's `length` bytes, then room for padding and the tag (sealed_size() in
  // all). The fast path seals an mbuf's packet where it lies.
  size_t seal_in_place(std::span<uint8_t> buffer, size_t length, size_t mtu = 0);
  // Opens a transport datagram to this session: the packet and its padding in `out` (at least
  // datagram.size() - kKeepaliveSize bytes, else kTooLarge), its length in `length`. `out`
  // may be the datagram's own bytes after its header (opened in place).
  OpenResult open(std::span<const uint8_t> datagram, std::span<uint8_t> out, size_t& length);

 private:
  SessionKeys keys_;
  AeadKey send_;
  AeadKey receive_;
  uint64_t next_counter_ = 0;
  ReplayWindow window_;
};

}  // namespace vigil::wg

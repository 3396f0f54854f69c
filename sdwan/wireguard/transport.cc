#include "sdwan/wireguard/transport.h"

#include <algorithm>

namespace vigil::wg {

std::string_view name_of(OpenResult r) {
  switch (r) {
    case OpenResult::kOk:
      return "ok";
    case OpenResult::kNotTransport:
      return "not_transport";
    case OpenResult::kNotThisSession:
      return "no_session";
    case OpenResult::kReplay:
      return "replay";
    case OpenResult::kBadTag:
      return "bad_tag";
    case OpenResult::kTooLarge:
      return "too_large";
  }
  return "not_transport";
}

size_t TransportSession::seal(std::span<const uint8_t> packet, std::span<uint8_t> out, size_t mtu) {
  if (out.size() < sealed_size(packet.size(), mtu)) {
    return 0;
  }
  std::copy(packet.begin(), packet.end(), out.begin() + kTransportHeaderSize);
  return seal_in_place(out, packet.size(), mtu);
}

size_t TransportSession::seal_in_place(std::span<uint8_t> buffer, size_t length, size_t mtu) {
  const size_t size = sealed_size(length, mtu);
  if (next_counter_ >= kRejectAfterMessages || buffer.size() < size) {
    return 0;
  }
  const uint64_t counter = next_counter_++;
  encode(TransportHeader{.receiver = keys_.remote_index, .counter = counter},
         buffer.first<kTransportHeaderSize>());
  // The plaintext is the packet and zero padding, sealed in place after the header (ChaCha20
  // is a stream cipher: OpenSSL seals a buffer onto itself).
  const size_t padded = size - kTransportHeaderSize - kTagSize;
  auto body = buffer.subspan(kTransportHeaderSize, padded);
  std::fill(body.begin() + static_cast<long>(length), body.end(), 0);
  send_.seal(counter, body, {}, buffer.subspan(kTransportHeaderSize, padded + kTagSize));
  return size;
}

OpenResult TransportSession::open(std::span<const uint8_t> datagram, std::span<uint8_t> out,
                                  size_t& length) {
  TransportHeader h;
  if (!decode(datagram, h)) {
    return OpenResult::kNotTransport;
  }
  if (h.receiver != keys_.local_index) {
    return OpenResult::kNotThisSession;
  }
  length = datagram.size() - kKeepaliveSize;
  if (out.size() < length) {
    return OpenResult::kTooLarge;
  }
  if (h.counter >= kRejectAfterMessages) {
    return OpenResult::kReplay;
  }
  // The tag first, the counter after: an unauthenticated counter must not move the window.
  if (!receive_.open(h.counter, datagram.subspan(kTransportHeaderSize), {}, out.first(length))) {
    return OpenResult::kBadTag;
  }
  if (!window_.take(h.counter, kRejectAfterMessages)) {
    return OpenResult::kReplay;
  }
  return OpenResult::kOk;
}

}  // namespace vigil::wg

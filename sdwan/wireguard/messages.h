// WireGuard's four messages on the wire (the whitepaper's section 5.4, as wireguard-go and
// the kernel send them): a type byte and three zero bytes, then little-endian indexes and
// counters. Decoding is total: any datagram is either one message of the right size or a
// reason it is not, so a hostile peer can only be counted, never crash or confuse the reader.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sdwan/wireguard/crypto.h"

namespace vigil::wg {

enum class MessageType : uint8_t {
  kInitiation = 1,
  kResponse = 2,
  kCookieReply = 3,
  kTransport = 4
};

inline constexpr size_t kInitiationSize = 148;
inline constexpr size_t kResponseSize = 92;
inline constexpr size_t kCookieReplySize = 64;
inline constexpr size_t kTransportHeaderSize = 16;
inline constexpr size_t kKeepaliveSize = kTransportHeaderSize + kTagSize;  // the smallest

struct Initiation {
  uint32_t sender = 0;
  Key ephemeral{};
  std::array<uint8_t, kKeySize + kTagSize> encrypted_static{};
  std::array<uint8_t, 12 + kTagSize> encrypted_timestamp{};
  Mac mac1{};
  Mac mac2{};
};

struct Response {
  uint32_t sender = 0;
  uint32_t receiver = 0;
  Key ephemeral{};
  std::array<uint8_t, kTagSize> encrypted_nothing{};
  Mac mac1{};
  Mac mac2{};
};

struct CookieReply {
  uint32_t receiver = 0;
  XNonce nonce{};
  std::array<uint8_t, kMacSize + kTagSize> encrypted_cookie{};
};

struct TransportHeader {
  uint32_t receiver = 0;
  uint64_t counter = 0;
};

// What a datagram is, or why it is none of the four (each counted under its name).
enum class Classified {
  kInitiation,
  kResponse,
  kCookieReply,
  kTransport,
  kTooShort,     // under 32 bytes
  kUnknownType,  // a type byte other than 1-4, or the reserved bytes not zero
  kBadLength,    // a handshake message of another size than its own
};
Classified classify(std::span<const uint8_t> datagram);
std::string_view name_of(Classified c);

using InitiationBytes = std::array<uint8_t, kInitiationSize>;
using ResponseBytes = std::array<uint8_t, kResponseSize>;
using CookieReplyBytes = std::array<uint8_t, kCookieReplySize>;

InitiationBytes encode(const Initiation& m);
ResponseBytes encode(const Response& m);
CookieReplyBytes encode(const CookieReply& m);
void encode(const TransportHeader& h, std::span<uint8_t, kTransportHeaderSize> out);

// Each decodes a datagram classify() named as its kind (the size is checked again).
bool decode(std::span<const uint8_t> datagram, Initiation& out);
bool decode(std::span<const uint8_t> datagram, Response& out);
bool decode(std::span<const uint8_t> datagram, CookieReply& out);
bool decode(std::span<const uint8_t> datagram, TransportHeader& out);

// Where mac1 and mac2 sit in a handshake message: mac1 covers everything before it, mac2
// everything before mac2 (mac1 included).
inline constexpr size_t mac1_offset(size_t message_size) {
  return message_size - 2 * kMacSize;
}
inline constexpr size_t mac2_offset(size_t message_size) {
  return message_size - kMacSize;
}

}  // namespace vigil::wg

#include "sdwan/wireguard/messages.h"

#include <algorithm>

namespace vigil::wg {
namespace {

void put32(uint8_t* at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) {
    at[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
void put64(uint8_t* at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) {
    at[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
uint32_t get32(const uint8_t* at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v |= uint32_t{at[i]} << (8 * i);
  }
  return v;
}
uint64_t get64(const uint8_t* at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v |= uint64_t{at[i]} << (8 * i);
  }
  return v;
}

// Copies `field.size()` bytes from `at` into the field and moves past them.
template <typename Field>
void take(const uint8_t*& at, Field& field) {
  std::copy(at, at + field.size(), field.begin());
  at += field.size();
}
template <typename Field>
void give(uint8_t*& at, const Field& field) {
  std::copy(field.begin(), field.end(), at);
  at += field.size();
}

void put_type(uint8_t* at, MessageType t) {
  put32(at, static_cast<uint32_t>(t));
}

}  // namespace

Classified classify(std::span<const uint8_t> d) {
  if (d.size() < kKeepaliveSize) {
    return Classified::kTooShort;
  }
  if (d[1] != 0 || d[2] != 0 || d[3] != 0) {
    return Classified::kUnknownType;
  }
  switch (d[0]) {
    case static_cast<uint8_t>(MessageType::kInitiation):
      return d.size() == kInitiationSize ? Classified::kInitiation : Classified::kBadLength;
    case static_cast<uint8_t>(MessageType::kResponse):
      return d.size() == kResponseSize ? Classified::kResponse : Classified::kBadLength;
    case static_cast<uint8_t>(MessageType::kCookieReply):
      return d.size() == kCookieReplySize ? Classified::kCookieReply : Classified::kBadLength;
    case static_cast<uint8_t>(MessageType::kTransport):
      return Classified::kTransport;
    default:
      return Classified::kUnknownType;
  }
}

std::string_view name_of(Classified c) {
  switch (c) {
    case Classified::kInitiation:
      return "initiation";
    case Classified::kResponse:
      return "response";
    case Classified::kCookieReply:
      return "cookie_reply";
    case Classified::kTransport:
      return "transport";
    case Classified::kTooShort:
      return "too_short";
    case Classified::kUnknownType:
      return "unknown_type";
    case Classified::kBadLength:
      return "bad_length";
  }
  return "unknown_type";
}

InitiationBytes encode(const Initiation& m) {
  InitiationBytes out{};
  uint8_t* at = out.data();
  put_type(at, MessageType::kInitiation);
  put32(at + 4, m.sender);
  at += 8;
  give(at, m.ephemeral);
  give(at, m.encrypted_static);
  give(at, m.encrypted_timestamp);
  give(at, m.mac1);
  give(at, m.mac2);
  return out;
}

ResponseBytes encode(const Response& m) {
  ResponseBytes out{};
  uint8_t* at = out.data();
  put_type(at, MessageType::kResponse);
  put32(at + 4, m.sender);
  put32(at + 8, m.receiver);
  at += 12;
  give(at, m.ephemeral);
  give(at, m.encrypted_nothing);
  give(at, m.mac1);
  give(at, m.mac2);
  return out;
}

CookieReplyBytes encode(const CookieReply& m) {
  CookieReplyBytes out{};
  uint8_t* at = out.data();
  put_type(at, MessageType::kCookieReply);
  put32(at + 4, m.receiver);
  at += 8;
  give(at, m.nonce);
  give(at, m.encrypted_cookie);
  return out;
}

void encode(const TransportHeader& h, std::span<uint8_t, kTransportHeaderSize> out) {
  put_type(out.data(), MessageType::kTransport);
  put32(out.data() + 4, h.receiver);
  put64(out.data() + 8, h.counter);
}

bool decode(std::span<const uint8_t> d, Initiation& out) {
  if (classify(d) != Classified::kInitiation) {
    return false;
  }
  out.sender = get32(d.data() + 4);
  const uint8_t* at = d.data() + 8;
  take(at, out.ephemeral);
  take(at, out.encrypted_static);
  take(at, out.encrypted_timestamp);
  take(at, out.mac1);
  take(at, out.mac2);
  return true;
}

bool decode(std::span<const uint8_t> d, Response& out) {
  if (classify(d) != Classified::kResponse) {
    return false;
  }
  out.sender = get32(d.data() + 4);
  out.receiver = get32(d.data() + 8);
  const uint8_t* at = d.data() + 12;
  take(at, out.ephemeral);
  take(at, out.encrypted_nothing);
  take(at, out.mac1);
  take(at, out.mac2);
  return true;
}

bool decode(std::span<const uint8_t> d, CookieReply& out) {
  if (classify(d) != Classified::kCookieReply) {
    return false;
  }
  out.receiver = get32(d.data() + 4);
  const uint8_t* at = d.data() + 8;
  take(at, out.nonce);
  take(at, out.encrypted_cookie);
  return true;
}

bool decode(std::span<const uint8_t> d, TransportHeader& out) {
  if (classify(d) != Classified::kTransport) {
    return false;
  }
  out.receiver = get32(d.data() + 4);
  out.counter = get64(d.data() + 8);
  return true;
}

}  // namespace vigil::wg

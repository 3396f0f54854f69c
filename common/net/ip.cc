#include "common/net/ip.h"

#include <arpa/inet.h>

#include <charconv>

namespace vigil::net {
namespace {

bool bit_set(const IpAddress& a, int bit) {
  return (a.bytes[bit / 8] >> (7 - bit % 8)) & 1;
}

IpAddress masked(const IpAddress& a, int length) {
  IpAddress out = a;
  for (int bit = length; bit < a.max_prefix(); ++bit) {
    out.bytes[bit / 8] &= static_cast<uint8_t>(~(1u << (7 - bit % 8)));
  }
  return out;
}

Expected<Prefix> parse_prefix(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail("\"" + std::string(text) + "\" is not a prefix (expected address/length)");
  }
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) {
    return fail(addr.error());
  }
  const std::string_view len_text = text.substr(slash + 1);
  int length = -1;
  const auto [end, ec] =
      std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || length < 0 ||
      length > addr->max_prefix()) {
    return fail("prefix length \"" + std::string(len_text) + "\" must be 0 to " +
                std::to_string(addr->max_prefix()));
  }
  return Prefix{*addr, length};
}

}  // namespace

Expected<IpAddress> IpAddress::parse(std::string_view text) {
  const std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    out.family = 4;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.family = 6;
    return out;
  }
  return fail("\"" + s + "\" is not an IPv4 or IPv6 address");
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

Expected<Prefix> Prefix::parse_network(std::string_view text) {
  auto p = parse_prefix(text);
  if (p && p->network() != *p) {
    return fail("\"" + std::string(text) + "\" has host bits set; the network is " +
                p->network().to_string());
  }
  return p;
}

Expected<Prefix> Prefix::parse_interface(std::string_view text) {
  return parse_prefix(text);
}

Prefix Prefix::network() const {
  return Prefix{masked(address, length), length};
}

bool Prefix::contains(const IpAddress& ip) const {
  if (ip.family != address.family) {
    return false;
  }
  for (int bit = 0; bit < length; ++bit) {
    if (bit_set(ip, bit) != bit_set(address, bit)) {
      return false;
    }
  }
  return true;
}

bool Prefix::overlaps(const Prefix& other) const {
  if (other.address.family != address.family) {
    return false;
  }
  const Prefix& shorter = length <= other.length ? *this : other;
  const Prefix& longer = length <= other.length ? other : *this;
  return shorter.network().contains(longer.address);
}

std::string Prefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace vigil::net

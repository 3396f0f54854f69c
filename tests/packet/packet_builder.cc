#include "tests/packet/packet_builder.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace vigil::test {
namespace {

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  }
  if (n % 2 == 1) {
    sum += static_cast<uint32_t>(p[n - 1] << 8);
  }
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

template <size_t N>
std::array<uint8_t, N> address(int family, const std::string& text) {
  std::array<uint8_t, N> out{};
  if (inet_pton(family, text.c_str(), out.data()) != 1) {
    throw std::invalid_argument("bad address " + text);
  }
  return out;
}

std::array<uint8_t, 6> mac(const std::string& text) {
  std::array<unsigned, 6> v{};
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) !=
      6) {
    throw std::invalid_argument("bad MAC " + text);
  }
  std::array<uint8_t, 6> out{};
  for (size_t i = 0; i < 6; ++i) {
    out[i] = static_cast<uint8_t>(v[i]);
  }
  return out;
}

}  // namespace

std::vector<uint8_t> PacketBuilder::build() const {
  // Innermost first: each layer wraps what is inside it.
  std::vector<uint8_t> inner;
  uint8_t next_proto = 59;      // IPv6 "no next header" until an L4 layer says otherwise
  uint16_t next_ethertype = 0;  // what the enclosing Ethernet or VLAN header announces
  std::vector<uint8_t> pseudo;  // IP pseudo-header for the L4 checksum, filled by the IP layer
  size_t l4_checksum_at = SIZE_MAX;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    const Layer& l = *it;
    std::vector<uint8_t> h;
    switch (l.kind) {
      case Kind::kPayload:
        h.resize(l.n);
        for (size_t i = 0; i < l.n; ++i) {
          h[i] = static_cast<uint8_t>(i);
        }
        break;
      case Kind::kTcp:
        h.assign(20, 0);
        put16(h, 0, l.a);
        put16(h, 2, l.b);
        h[12] = 5 << 4;
        h[13] = static_cast<uint8_t>(l.n);
        put16(h, 14, 65535);
        next_proto = 6;
        l4_checksum_at = 16;
        break;
      case Kind::kUdp:
        h.assign(8, 0);
        put16(h, 0, l.a);
        put16(h, 2, l.b);
        put16(h, 4, static_cast<uint16_t>(8 + inner.size()));
        next_proto = 17;
        l4_checksum_at = l.n == 0 ? 6 : SIZE_MAX;
        break;
      case Kind::kRaw:
        h = l.bytes;
        break;
      case Kind::kIcmp:
        h.assign(8, 0);
        h[0] = static_cast<uint8_t>(l.a);
        h[1] = static_cast<uint8_t>(l.b);
        put16(h, 4, static_cast<uint16_t>(l.n >> 16));
        put16(h, 6, static_cast<uint16_t>(l.n));
        next_proto = 1;  // the IPv6 layer makes it ICMPv6 (58) and sums the pseudo-header
        l4_checksum_at = 2;
        break;
      case Kind::kIpv6Ext:
        h.assign(8 + l.n * 8, 0);
        h[0] = next_proto;
        h[1] = static_cast<uint8_t>(l.n);
        next_proto = static_cast<uint8_t>(l.a);
        break;
      case Kind::kIpv6Frag:
        h.assign(8, 0);
        h[0] = next_proto;
        put16(h, 2, l.a);
        next_proto = 44;
        break;
      case Kind::kIpv4: {
        const size_t hl = 20 + l.n;
        h.assign(hl, 0);
        h[0] = static_cast<uint8_t>(0x40 | hl / 4);
        h[1] = static_cast<uint8_t>(l.b);
        put16(h, 2, static_cast<uint16_t>(hl + inner.size()));
        put16(h, 6, l.a);
        h[8] = l.ttl;
        h[9] = next_proto == 59 ? 253 : next_proto;
        auto s = address<4>(AF_INET, l.src);
        auto d = address<4>(AF_INET, l.dst);
        std::memcpy(&h[12], s.data(), 4);
        std::memcpy(&h[16], d.data(), 4);
        put16(h, 10, fold(sum16(h.data(), hl)));
        next_ethertype = 0x0800;
        if (l4_checksum_at != SIZE_MAX && h[9] == 1) {
          put16(inner, l4_checksum_at, fold(sum16(inner.data(), inner.size())));
        }
        if (l4_checksum_at != SIZE_MAX && (h[9] == 6 || h[9] == 17) && (l.a & 0x1fff) == 0) {
          uint32_t sum = sum16(s.data(), 4, sum16(d.data(), 4));
          sum += h[9] + static_cast<uint32_t>(inner.size());
          put16(inner, l4_checksum_at, fold(sum16(inner.data(), inner.size(), sum)));
        }
        next_proto = 4;
        break;
      }
      case Kind::kIpv6: {
        h.assign(40, 0);
        h[0] = static_cast<uint8_t>(0x60 | l.b >> 4);
        h[1] = static_cast<uint8_t>(l.b << 4);
        put16(h, 4, static_cast<uint16_t>(inner.size()));
        h[6] = next_proto == 1 ? 58 : next_proto;
        h[7] = l.ttl;
        auto s = address<16>(AF_INET6, l.src);
        auto d = address<16>(AF_INET6, l.dst);
        std::memcpy(&h[8], s.data(), 16);
        std::memcpy(&h[24], d.data(), 16);
        if (l4_checksum_at != SIZE_MAX && h[6] == 58) {  // RFC 4443 2.3: with the pseudo-header
          uint32_t sum = sum16(s.data(), 16, sum16(d.data(), 16));
          sum += 58 + static_cast<uint32_t>(inner.size());
          put16(inner, l4_checksum_at, fold(sum16(inner.data(), inner.size(), sum)));
        }
        next_proto = 41;
        next_ethertype = 0x86dd;
        break;
      }
      case Kind::kVlan:
      case Kind::kEth:
        break;  // after the switch: they need the ethertype of what they wrap
    }
    if (l.kind == Kind::kVlan) {
      h.assign(4, 0);
      put16(h, 0, l.a);
      put16(h, 2, next_ethertype);
      next_ethertype = l.b;  // the tag's TPID goes in the header outside it
    } else if (l.kind == Kind::kEth) {
      h.assign(14, 0);
      const auto dst_mac = mac(l.dst.empty() ? "02:00:00:00:00:02" : l.dst);
      const auto src_mac = mac(l.src.empty() ? "02:00:00:00:00:01" : l.src);
      std::memcpy(&h[0], dst_mac.data(), 6);
      std::memcpy(&h[6], src_mac.data(), 6);
      put16(h, 12, next_ethertype);
    }
    inner.insert(inner.begin(), h.begin(), h.end());
  }
  return inner;
}

}  // namespace vigil::test

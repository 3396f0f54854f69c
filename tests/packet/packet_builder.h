// Builds test frames layer by layer: PacketBuilder().eth().vlan(10).ipv4(a, b).udp(1, 2)
// .payload(32).build(). Lengths, next-header fields and IPv4/TCP/UDP checksums are filled in
// from the layers, so a test states only what it is about; mutate the bytes afterwards to
// make a frame malformed.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::test {

class PacketBuilder {
 public:
  PacketBuilder& eth() { return add({Kind::kEth}); }
  // MACs as text: "02:00:00:00:00:fe".
  PacketBuilder& eth(const std::string& dst_mac, const std::string& src_mac) {
    return add({.kind = Kind::kEth, .src = src_mac, .dst = dst_mac});
  }
  PacketBuilder& vlan(uint16_t id, uint16_t tpid = 0x8100) {
    return add({.kind = Kind::kVlan, .a = id, .b = tpid});
  }
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, uint16_t frag = 0,
                      size_t option_bytes = 0) {
    return add({.kind = Kind::kIpv4, .a = frag, .n = option_bytes, .src = src, .dst = dst});
  }
  PacketBuilder& ipv6(const std::string& src, const std::string& dst) {
    return add({.kind = Kind::kIpv6, .src = src, .dst = dst});
  }
  // A hop-by-hop, routing or destination options header of `units` * 8 + 8 bytes.
  PacketBuilder& ipv6_ext(uint8_t type, uint8_t units = 0) {
    return add({.kind = Kind::kIpv6Ext, .a = type, .n = units});
  }
  PacketBuilder& ipv6_frag(uint16_t offset_units, bool more) {
    return add({.kind = Kind::kIpv6Frag, .a = static_cast<uint16_t>(offset_units << 3 | more)});
  }
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags = 0x02) {
    return add({.kind = Kind::kTcp, .a = sport, .b = dport, .n = flags});
  }
  // `checksum` false leaves it zero, as tunnels may (RFC 6935).
  PacketBuilder& udp(uint16_t sport, uint16_t dport, bool checksum = true) {
    return add({.kind = Kind::kUdp, .a = sport, .b = dport, .n = checksum ? 0u : 1u});
  }
  // ICMP (over IPv4) or ICMPv6 (over IPv6) with its checksum; `rest` is bytes 4-7 (an echo's
  // id and sequence, an MTU), then the layers inside it (raw() for a quoted packet).
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest = 0) {
    return add({.kind = Kind::kIcmp, .a = type, .b = code, .n = rest});
  }
  // Bytes as given, e.g. a whole packet quoted by an ICMP error.
  PacketBuilder& raw(std::vector<uint8_t> bytes) {
    return add({.kind = Kind::kRaw, .bytes = std::move(bytes)});
  }
  PacketBuilder& payload(size_t bytes) { return add({.kind = Kind::kPayload, .n = bytes}); }

  std::vector<uint8_t> build() const;

  // Sets the TOS (IPv4) or traffic class (IPv6) of the IP layer just added.
  PacketBuilder& tos(uint8_t value) {
    layers_.back().b = value;
    return *this;
  }
  // Sets the TTL (IPv4) or hop limit (IPv6) of the IP layer just added (64 otherwise).
  PacketBuilder& ttl(uint8_t value) {
    layers_.back().ttl = value;
    return *this;
  }

 private:
  enum class Kind {
    kEth,
    kVlan,
    kIpv4,
    kIpv6,
    kIpv6Ext,
    kIpv6Frag,
    kTcp,
    kUdp,
    kIcmp,
    kPayload,
    kRaw
  };
  struct Layer {
    Kind kind;
    uint16_t a = 0;
    uint16_t b = 0;
    size_t n = 0;
    std::string src, dst;
    uint8_t ttl = 64;
    std::vector<uint8_t> bytes;
  };
  PacketBuilder& add(Layer l) {
    layers_.push_back(std::move(l));
    return *this;
  }
  std::vector<Layer> layers_;
};

}  // namespace vigil::test

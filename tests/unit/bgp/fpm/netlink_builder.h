// Netlink messages as zebra's dplane_fpm_nl writes them, for the FPM tests: a route or a next
// hop with its attributes, any length lie a test wants, and the FPM frame around them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/net/ip.h"
#include "tests/support/net_literals.h"

namespace vigil::fpm::test {

using vigil::test::ip;

class NetlinkBuilder {
 public:
  // nlmsghdr of `type`, then `fixed` (rtmsg or nhmsg) as given.
  NetlinkBuilder(uint16_t type, std::vector<uint8_t> fixed) {
    bytes_.resize(16);
    put16(4, type);
    bytes_.insert(bytes_.end(), fixed.begin(), fixed.end());
    pad();
  }
  static NetlinkBuilder route(uint16_t type, uint8_t family, uint8_t dst_len, uint8_t rtm_type = 1,
                              uint8_t protocol = 186, uint8_t table = 254) {
    return NetlinkBuilder(type, {family, dst_len, 0, 0, table, protocol, 0, rtm_type, 0, 0, 0, 0});
  }
  static NetlinkBuilder nexthop(uint16_t type, uint8_t family) {
    return NetlinkBuilder(type, {family, 0, 186, 0, 0, 0, 0, 0});
  }

  // rtm_flags (a route) or nh_flags (a next hop), e.g. RTNH_F_ONLINK.
  NetlinkBuilder& flags(uint32_t value) {
    const size_t at = 16 + (type() == 104 || type() == 105 ? 4 : 8);
    std::memcpy(bytes_.data() + at, &value, 4);
    return *this;
  }
  NetlinkBuilder& attr(uint16_t type, const std::vector<uint8_t>& value) {
    std::vector<uint8_t> a(4);
    const auto len = static_cast<uint16_t>(4 + value.size());
    std::memcpy(a.data(), &len, 2);
    std::memcpy(a.data() + 2, &type, 2);
    a.insert(a.end(), value.begin(), value.end());
    bytes_.insert(bytes_.end(), a.begin(), a.end());
    pad();
    return *this;
  }
  NetlinkBuilder& attr32(uint16_t type, uint32_t v) { return attr(type, le32(v)); }
  NetlinkBuilder& addr(uint16_t type, const char* text) {
    const net::IpAddress a = ip(text);
    return attr(type, {a.bytes.begin(), a.bytes.begin() + (a.family == 4 ? 4 : 16)});
  }
  // Adds raw bytes (a lie, a truncation) without padding.
  NetlinkBuilder& raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // The message, its nlmsg_len set to its size or to `length` when given.
  std::vector<uint8_t> build(std::optional<uint32_t> length = {}) const {
    std::vector<uint8_t> out = bytes_;
    const uint32_t len = length.value_or(static_cast<uint32_t>(out.size()));
    uint8_t raw[4];
    std::memcpy(raw, &len, 4);
    std::copy(raw, raw + 4, out.begin());  // the header is there: the constructor made it
    return out;
  }

  static std::vector<uint8_t> le32(uint32_t v) {
    std::vector<uint8_t> b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
  }
  // One rtnexthop of RTA_MULTIPATH: weight 1-256, an ifindex and a gateway.
  static std::vector<uint8_t> rtnexthop(uint32_t weight, uint32_t ifindex, const char* gateway,
                                        uint8_t flags = 0) {
    const net::IpAddress a = ip(gateway);
    const size_t alen = a.family == 4 ? 4 : 16;
    std::vector<uint8_t> b(8);
    const auto len = static_cast<uint16_t>(8 + 4 + alen);
    std::memcpy(b.data(), &len, 2);
    b[2] = flags;
    b[3] = static_cast<uint8_t>(weight - 1);
    std::memcpy(b.data() + 4, &ifindex, 4);
    const uint16_t alen_attr = static_cast<uint16_t>(4 + alen), type = 5;  // RTA_GATEWAY
    b.resize(8 + 4);
    std::memcpy(b.data() + 8, &alen_attr, 2);
    std::memcpy(b.data() + 10, &type, 2);
    b.insert(b.end(), a.bytes.begin(), a.bytes.begin() + static_cast<long>(alen));
    return b;
  }
  // NHA_GROUP's entries: (id, weight 1-256).
  static std::vector<uint8_t> group(const std::vector<std::pair<uint32_t, uint32_t>>& members) {
    std::vector<uint8_t> b;
    for (const auto& [id, weight] : members) {
      std::vector<uint8_t> e(8, 0);
      std::memcpy(e.data(), &id, 4);
      e[4] = static_cast<uint8_t>(weight - 1);
      b.insert(b.end(), e.begin(), e.end());
    }
    return b;
  }

 private:
  void put16(size_t at, uint16_t v) { std::memcpy(bytes_.data() + at, &v, 2); }
  uint16_t type() const {
    uint16_t t = 0;
    std::memcpy(&t, bytes_.data() + 4, 2);
    return t;
  }
  void pad() { bytes_.resize((bytes_.size() + 3) & ~size_t{3}); }
  std::vector<uint8_t> bytes_;
};

// An FPM frame (version 1, `type`) holding `messages`.
inline std::vector<uint8_t> frame(const std::vector<std::vector<uint8_t>>& messages,
                                  uint8_t type = 1) {
  std::vector<uint8_t> out = {1, type, 0, 0};
  for (const auto& m : messages) {
    out.insert(out.end(), m.begin(), m.end());
  }
  out[2] = static_cast<uint8_t>(out.size() >> 8);
  out[3] = static_cast<uint8_t>(out.size());
  return out;
}

}  // namespace vigil::fpm::test

#include "dataplane/forwarding/local_policy.h"

#include <cstring>

namespace vigil::dp {
namespace {

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmp6 = 58;

bool matches(const std::optional<net::Prefix>& prefix, const net::IpAddress& a) {
  return !prefix || (prefix->address.family == a.family && prefix->contains(a));
}

}  // namespace

bool LocalPolicy::admits(int family, const uint8_t* src, const uint8_t* dst, uint8_t protocol,
                         uint16_t port, bool ports_known, bool later_fragment) const {
  if (!acl.empty()) {
    net::IpAddress s, d;
    s.family = d.family = family;
    const size_t size = family == 4 ? 4 : 16;
    std::memcpy(s.bytes.data(), src, size);
    std::memcpy(d.bytes.data(), dst, size);
    for (const LocalAclRule& rule : acl) {
      if (matches(rule.source, s) && matches(rule.destination, d)) {
        if (rule.deny) {
          return false;
        }
        break;
      }
    }
  }
  if (later_fragment) {
    return !drop_later_fragments;
  }
  if (!ports_known) {
    return false;  // extension headers past the parser's walk: malformed to the box, as in XDP
  }
  if (protocol == kIcmp || protocol == kIcmp6) {
    return true;
  }
  if ((protocol == kTcp && tcp_ports.test(port)) || (protocol == kUdp && udp_ports.test(port))) {
    return true;
  }
  return !drop_by_default;
}

}  // namespace vigil::dp

// What the box's kernel takes of what the mesh brings for it. The XDP classifier holds traffic
// to the box to `filter` (the ACL, ICMP and the box's service ports always in, the rest by
// filter.default_action, later fragments by filter.later_fragments), but cannot see what
// arrives through a tunnel: that comes sealed, and is opened in the fast path. The route
// stage holds it to the same rules, from this policy in the forwarding snapshot. Rate and SYN
// limits are the classifier's alone (its per-CPU buckets): not applied here.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/net/ip.h"

namespace vigil::dp {

struct LocalAclRule {
  std::optional<net::Prefix> source, destination;  // none: any
  bool deny = false;
};

struct LocalPolicy {
  bool drop_by_default = false;
  bool drop_later_fragments = false;
  std::vector<LocalAclRule> acl;  // first match decides (allow: on to the rest, as in XDP)
  std::bitset<65536> tcp_ports, udp_ports;  // the box's services

  // Whether a packet for the box is let in: `src` and `dst` of `family` (4 or 6, the first 4
  // bytes for IPv4), its protocol and destination port (host order) when `ports_known`.
  // A first fragment or whole packet whose ports are not known (IPv6 extension headers past
  // the parser's walk) is refused whatever the default, as the classifier drops it as
  // malformed when it is for the box.
  bool admits(int family, const uint8_t* src, const uint8_t* dst, uint8_t protocol, uint16_t port,
              bool ports_known, bool later_fragment) const;
};

}  // namespace vigil::dp

// The netlink messages zebra sends over FPM, decoded by hand from bytes it does not trust:
// routes (RTM_NEWROUTE, RTM_DELROUTE: FRR 8.4 sends an update as a delete and an add in one
// frame) and next-hop objects (RTM_NEWNEXTHOP, RTM_DELNEXTHOP: single next hops and groups,
// which routes name by RTA_NH_ID unless zebra has `no fpm use-next-hop-groups`, when each
// route carries its next hops inline). Every length is checked against what holds it; a
// message that does not decode is refused alone, with the reason, and the rest of the frame
// still counts. Netlink is in the host's byte order: zebra runs on this host.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/net/ip.h"

namespace vigil::fpm {

// RTM_* and RTN_* as the kernel's UAPI has them (linux/rtnetlink.h): the decoder does not
// need the kernel's headers, and the fuzz target builds anywhere.
inline constexpr uint16_t kRtmNewRoute = 24, kRtmDelRoute = 25;
inline constexpr uint16_t kRtmNewNexthop = 104, kRtmDelNexthop = 105;
inline constexpr uint32_t kMainTable = 254;   // RT_TABLE_MAIN
inline constexpr uint8_t kProtocolBgp = 186;  // RTPROT_BGP

enum class RouteKind : uint8_t { kUnicast, kBlackhole, kUnreachable, kProhibit };

// zebra 8.4 sends an IPv4 route over an IPv6 next hop (RFC 5549, BGP unnumbered) inline as
// this gateway, on-link, and installs a neighbour entry for it in the kernel with the IPv6
// peer's MAC address (rt_netlink.c: ipv4_ll).
inline constexpr uint8_t kIpv4OverIpv6Gateway[4] = {169, 254, 0, 1};

// Most members a next-hop group or a route's RTA_MULTIPATH may have: more is refused while
// decoding, before anything is kept (the store's own limit may be lower).
inline constexpr size_t kMaxGroupMembers = 512;

struct FpmNextHop {
  std::optional<net::IpAddress> gateway;  // none: the destination is on the link
  uint32_t ifindex = 0;                   // 0: not given
  uint32_t weight = 1;                    // 1-256 (the kernel's hops + 1)
  bool onlink = false;                    // RTNH_F_ONLINK: the gateway is on the link as is
  bool operator==(const FpmNextHop&) const = default;
};

struct RouteMessage {
  bool add = true;  // RTM_NEWROUTE; false: RTM_DELROUTE
  net::Prefix prefix;
  uint32_t table = kMainTable;
  uint8_t protocol = 0;  // RTPROT_*: who made the route in zebra (bgp, static, ...)
  uint32_t metric = 0;
  RouteKind kind = RouteKind::kUnicast;
  uint32_t nexthop_id = 0;            // RTA_NH_ID: the next hops are that object's; 0: none
  std::vector<FpmNextHop> next_hops;  // inline: RTA_GATEWAY and RTA_OIF, or RTA_MULTIPATH
  bool operator==(const RouteMessage&) const = default;
};

struct NexthopMessage {
  bool add = true;  // RTM_NEWNEXTHOP; false: RTM_DELNEXTHOP
  uint32_t id = 0;
  bool blackhole = false;
  std::optional<net::IpAddress> gateway;
  uint32_t ifindex = 0;
  bool onlink = false;  // RTNH_F_ONLINK in nh_flags
  // A group: its members' ids with their weights (1-256); empty for a single next hop.
  std::vector<std::pair<uint32_t, uint32_t>> group;
  bool operator==(const NexthopMessage&) const = default;
};

using FpmMessage = std::variant<RouteMessage, NexthopMessage>;

// A message refused that named what it was about: the caller fails closed on it (a route
// zebra meant to change must not keep forwarding the old way).
struct RefusedMessage {
  bool add = true;
  bool route = true;  // false: a next hop, `nexthop_id`
  net::Prefix prefix;
  uint32_t nexthop_id = 0;
  // Where it came in the frame: before DecodedFrame::messages[before] (zebra's order is the
  // order that counts: a refused delete before an add of the same prefix is not the reverse).
  size_t before = 0;
  bool operator==(const RefusedMessage&) const = default;
};

struct DecodedFrame {
  std::vector<FpmMessage> messages;
  std::vector<RefusedMessage> refused;  // those of `errors` that named a prefix or an id
  // Messages that are not routes or next hops of IPv4 and IPv6 (neighbours, MPLS, a route
  // type such as local or multicast): not the fast path's, counted.
  size_t ignored = 0;
  std::vector<std::string> errors;  // one per message refused, saying which and why
};

// Every netlink message in `payload` (an FPM frame's). A length that lies ends the frame
// there, with an error.
DecodedFrame decode_netlink(std::span<const uint8_t> payload);

}  // namespace vigil::fpm

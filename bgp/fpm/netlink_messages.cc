#include "bgp/fpm/netlink_messages.h"

#include <algorithm>
#include <cstring>

#include "common/expected.h"

namespace vigil::fpm {
namespace {

constexpr size_t kNetlinkHeader = 16;  // nlmsghdr
constexpr size_t kRtmsg = 12;
constexpr size_t kNhmsg = 8;
constexpr size_t kAttributeHeader = 4;  // rtattr, nlattr
constexpr size_t kRtnexthop = 8;
constexpr size_t kNexthopGrp = 8;
constexpr uint8_t kRtnhFlagOnlink = 4;           // RTNH_F_ONLINK, in rtm_flags and rtnh_flags
constexpr uint16_t kAttributeTypeMask = 0x3fff;  // NLA_TYPE_MASK: without the nested flags

constexpr uint8_t kAfInet = 2, kAfInet6 = 10;

// Route attributes (RTA_*) and next-hop attributes (NHA_*), linux/rtnetlink.h, nexthop.h.
enum : uint16_t {
  kRtaDst = 1,
  kRtaSrc = 2,
  kRtaOif = 4,
  kRtaGateway = 5,
  kRtaPriority = 6,
  kRtaMultipath = 9,
  kRtaTable = 15,
  kRtaVia = 18,
  kRtaEncapType = 21,
  kRtaEncap = 22,
  kRtaNhId = 30,
};
enum : uint16_t {
  kNhaId = 1,
  kNhaGroup = 2,
  kNhaBlackhole = 4,
  kNhaOif = 5,
  kNhaGateway = 6,
  kNhaEncapType = 7,
  kNhaEncap = 8,
  kNhaFdb = 11,
};
enum : uint8_t {
  kRtnUnicast = 1,
  kRtnBlackhole = 6,
  kRtnUnreachable = 7,
  kRtnProhibit = 8,
};

constexpr size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

uint16_t u16(const uint8_t* p) {
  uint16_t v = 0;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
uint32_t u32(const uint8_t* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The address family of a netlink message (AF_INET, AF_INET6) as IpAddress has it, or 0.
int family_of(uint8_t af) {
  return af == kAfInet ? 4 : af == kAfInet6 ? 6 : 0;
}

Expected<net::IpAddress> address(int family, std::span<const uint8_t> value, const char* what) {
  const size_t size = family == 4 ? 4 : 16;
  if (value.size() != size) {
    return fail(std::string(what) + " of " + std::to_string(value.size()) + " bytes in an IPv" +
                std::to_string(family) + " message");
  }
  net::IpAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), value.data(), size);
  return a;
}

// RTA_VIA (struct rtvia: a 16-bit family, then the address): a gateway of either family (an
// IPv4 route over an IPv6 next hop, RFC 5549).
Expected<net::IpAddress> via(std::span<const uint8_t> value) {
  if (value.size() < 2) {
    return fail("RTA_VIA of " + std::to_string(value.size()) + " bytes");
  }
  const uint16_t af = u16(value.data());
  const int family = af <= 0xff ? family_of(static_cast<uint8_t>(af)) : 0;
  if (family == 0) {
    return fail("RTA_VIA of address family " + std::to_string(af));
  }
  return address(family, value.subspan(2), "RTA_VIA");
}

// The attribute readers the decoders share: each sets `field` from `value` or says why not,
// naming the attribute.
Status read_word(std::span<const uint8_t> value, const char* what, uint32_t& field) {
  if (value.size() != 4) {
    return fail(std::string(what) + " of " + std::to_string(value.size()) + " bytes, not 4");
  }
  field = u32(value.data());
  return Ok{};
}
Status read_address(int family, std::span<const uint8_t> value, const char* what,
                    std::optional<net::IpAddress>& field) {
  auto a = address(family, value, what);
  if (!a) {
    return fail(a.error());
  }
  field = *a;
  return Ok{};
}
Status read_via(std::span<const uint8_t> value, std::optional<net::IpAddress>& field) {
  auto a = via(value);
  if (!a) {
    return fail(a.error());
  }
  field = *a;
  return Ok{};
}

// Calls `each(type, value)` for every attribute in `bytes`, in order; stops at the first
// error, its own or one an attribute's length makes.
template <typename Each>
Status for_each_attribute(std::span<const uint8_t> bytes, Each&& each) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kAttributeHeader) {
      return fail(std::to_string(bytes.size() - at) + " bytes after the last attribute");
    }
    const uint16_t length = u16(bytes.data() + at);
    const auto type = static_cast<uint16_t>(u16(bytes.data() + at + 2) & kAttributeTypeMask);
    if (length < kAttributeHeader || length > bytes.size() - at) {
      return fail("attribute " + std::to_string(type) + " of length " + std::to_string(length) +
                  " where " + std::to_string(bytes.size() - at) + " bytes are left");
    }
    if (Status ok = each(type, bytes.subspan(at + kAttributeHeader, length - kAttributeHeader));
        !ok) {
      return ok;
    }
    at += align4(length);
  }
  return Ok{};
}

// What an attribute list says beyond the fields it sets: encapsulations matter only to the
// main table's routes (a VRF's are left out whole, whatever they carry).
struct RouteExtras {
  bool encapsulated = false;
};

Status decode_multipath(int family, std::span<const uint8_t> bytes, RouteMessage& route,
                        RouteExtras& extras) {
  route.next_hops.clear();  // a repeated RTA_MULTIPATH replaces, as in the kernel
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kRtnexthop) {
      return fail("RTA_MULTIPATH: " + std::to_string(bytes.size() - at) +
                  " bytes after the last next hop");
    }
    const uint16_t length = u16(bytes.data() + at);
    if (length < kRtnexthop || length > bytes.size() - at) {
      return fail("RTA_MULTIPATH: a next hop of length " + std::to_string(length) + " where " +
                  std::to_string(bytes.size() - at) + " bytes are left");
    }
    if (route.next_hops.size() == kMaxGroupMembers) {
      return fail("RTA_MULTIPATH: more than " + std::to_string(kMaxGroupMembers) + " next hops");
    }
    // struct rtnexthop: length, flags, hops (weight - 1), ifindex
    FpmNextHop hop{.ifindex = u32(bytes.data() + at + 4),
                   .weight = uint32_t{bytes[at + 3]} + 1,
                   .onlink = (bytes[at + 2] & kRtnhFlagOnlink) != 0};
    Status ok =
        for_each_attribute(bytes.subspan(at + kRtnexthop, length - kRtnexthop),
                           [&](uint16_t type, std::span<const uint8_t> value) -> Status {
                             if (type == kRtaGateway) {
                               return read_address(family, value, "RTA_GATEWAY", hop.gateway);
                             }
                             if (type == kRtaVia) {
                               return read_via(value, hop.gateway);
                             }
                             if (type == kRtaEncap || type == kRtaEncapType) {
                               extras.encapsulated = true;
                             }
                             return Ok{};
                           });
    if (!ok) {
      return fail("RTA_MULTIPATH: " + ok.error());
    }
    route.next_hops.push_back(hop);
    at += align4(length);
  }
  return Ok{};
}

// The prefix a route refused for another reason was about, so that the caller can fail
// closed on it: from the attributes up to the first one whose length lies, and only for a
// main-table route without a source prefix (anything else names no route of the fast path).
std::optional<net::Prefix> destination_of(std::span<const uint8_t> body) {
  const int family = family_of(body[0]);
  if (family == 0 || body[2] != 0) {
    return std::nullopt;
  }
  const uint8_t length = body[1];
  uint32_t table = body[4];
  std::optional<net::Prefix> found;
  if (length == 0) {
    found = net::Prefix{.address = net::IpAddress{.family = family}, .length = 0};
  }
  (void)for_each_attribute(body.subspan(kRtmsg),
                           [&](uint16_t type, std::span<const uint8_t> value) -> Status {
                             if (type == kRtaDst) {
                               if (auto a = address(family, value, "RTA_DST")) {
                                 found = net::Prefix{.address = *a, .length = length};
                               }
                             } else if (type == kRtaTable && value.size() == 4) {
                               table = u32(value.data());
                             }
                             return Ok{};
                           });
  if (!found || table != kMainTable || length > found->address.max_prefix() ||
      found->network() != *found) {
    return std::nullopt;
  }
  return found;
}

// The route of an RTM_NEWROUTE or RTM_DELROUTE, or nothing when it is not the fast path's.
Expected<std::optional<RouteMessage>> decode_route(bool add, std::span<const uint8_t> body) {
  if (body.size() < kRtmsg) {
    return fail("an rtmsg of " + std::to_string(body.size()) + " bytes");
  }
  // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (32 bits)
  const int family = family_of(body[0]);
  if (family == 0) {
    return std::optional<RouteMessage>{};  // MPLS and the rest
  }
  RouteMessage route{.add = add, .table = body[4], .protocol = body[5]};
  route.prefix.address.family = family;
  route.prefix.length = body[1];
  if (route.prefix.length > route.prefix.address.max_prefix()) {
    return fail("a /" + std::to_string(route.prefix.length) + " IPv" + std::to_string(family) +
                " route");
  }
  if (body[2] != 0) {
    return fail("a source-specific route (from /" + std::to_string(body[2]) + "): not supported");
  }
  if (add) {
    switch (body[7]) {
      case kRtnUnicast:
        route.kind = RouteKind::kUnicast;
        break;
      case kRtnBlackhole:
        route.kind = RouteKind::kBlackhole;
        break;
      case kRtnUnreachable:
        route.kind = RouteKind::kUnreachable;
        break;
      case kRtnProhibit:
        route.kind = RouteKind::kProhibit;
        break;
      default:
        return std::optional<RouteMessage>{};  // local, broadcast, multicast...
    }
  }
  const bool route_onlink = (u32(body.data() + 8) & kRtnhFlagOnlink) != 0;
  bool has_dst = false;
  FpmNextHop single{.onlink = route_onlink};
  bool has_single = false;
  bool has_multipath = false;
  RouteExtras extras;
  Status ok = for_each_attribute(
      body.subspan(kRtmsg), [&](uint16_t type, std::span<const uint8_t> value) -> Status {
        switch (type) {
          case kRtaDst: {
            std::optional<net::IpAddress> dst;
            if (Status read = read_address(family, value, "RTA_DST", dst); !read) {
              return read;
            }
            route.prefix.address = *dst;
            has_dst = true;
            return Ok{};
          }
          case kRtaSrc:
            return fail("a source-specific route: not supported");
          case kRtaOif:
            has_single = true;
            return read_word(value, "RTA_OIF", single.ifindex);
          case kRtaGateway:
            has_single = true;
            return read_address(family, value, "RTA_GATEWAY", single.gateway);
          case kRtaVia:
            has_single = true;
            return read_via(value, single.gateway);
          case kRtaPriority:
            return read_word(value, "RTA_PRIORITY", route.metric);
          case kRtaTable:
            return read_word(value, "RTA_TABLE", route.table);
          case kRtaNhId:
            return read_word(value, "RTA_NH_ID", route.nexthop_id);
          case kRtaMultipath:
            has_multipath = true;
            return decode_multipath(family, value, route, extras);
          case kRtaEncap:
          case kRtaEncapType:
            extras.encapsulated = true;
            return Ok{};
          default:
            return Ok{};  // metrics, preferred source, tags: not the fast path's
        }
      });
  if (!ok) {
    return fail(route.prefix.address.to_string() + "/" + std::to_string(route.prefix.length) +
                ": " + ok.error());
  }
  if (!has_dst && route.prefix.length > 0) {
    return fail("a /" + std::to_string(route.prefix.length) + " route without RTA_DST");
  }
  if (route.prefix.network() != route.prefix) {
    return fail(route.prefix.to_string() + ": host bits set");
  }
  if (route.table != kMainTable) {
    return std::optional<RouteMessage>{std::move(route)};  // the store counts it and leaves it
  }
  if (extras.encapsulated) {
    return fail(route.prefix.to_string() +
                ": a route with an encapsulation (MPLS, EVPN, SRv6): not supported");
  }
  if (has_single) {
    if (has_multipath) {
      return fail(route.prefix.to_string() + ": both RTA_MULTIPATH and a single next hop");
    }
    route.next_hops.push_back(single);
  }
  return std::optional<RouteMessage>{std::move(route)};
}

Status decode_group(std::span<const uint8_t> value, NexthopMessage& nh) {
  if (value.empty() || value.size() % kNexthopGrp != 0) {
    return fail("NHA_GROUP of " + std::to_string(value.size()) + " bytes");
  }
  if (value.size() / kNexthopGrp > kMaxGroupMembers) {
    return fail("NHA_GROUP of " + std::to_string(value.size() / kNexthopGrp) +
                " members, more than " + std::to_string(kMaxGroupMembers));
  }
  nh.group.clear();  // a repeated NHA_GROUP replaces, as in the kernel
  for (size_t at = 0; at < value.size(); at += kNexthopGrp) {
    // struct nexthop_grp: id, weight - 1, two reserved fields
    nh.group.emplace_back(u32(value.data() + at), uint32_t{value[at + 4]} + 1);
  }
  return Ok{};
}

// A group's members are unique (the kernel refuses a duplicate): sorted, so checking costs
// no more than the sort for the largest group allowed.
Status check_members(const NexthopMessage& nh) {
  std::vector<uint32_t> ids;
  ids.reserve(nh.group.size());
  for (const auto& [member, weight] : nh.group) {
    if (member == 0 || member == nh.id) {
      return fail("next hop group " + std::to_string(nh.id) + ": a member of id " +
                  std::to_string(member));
    }
    ids.push_back(member);
  }
  std::sort(ids.begin(), ids.end());
  if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end()) {
    return fail("next hop group " + std::to_string(nh.id) + ": member " + std::to_string(*dup) +
                " twice");
  }
  return Ok{};
}

Expected<std::optional<NexthopMessage>> decode_nexthop(bool add, std::span<const uint8_t> body,
                                                       uint32_t& id_seen) {
  if (body.size() < kNhmsg) {
    return fail("an nhmsg of " + std::to_string(body.size()) + " bytes");
  }
  const int family = family_of(body[0]);
  if (family == 0 && body[0] != 0) {
    return std::optional<NexthopMessage>{};  // AF_MPLS, AF_BRIDGE (EVPN's FDB next hops)
  }
  // struct nhmsg: family, scope, protocol, reserved, flags (32 bits)
  NexthopMessage nh{.add = add, .onlink = (u32(body.data() + 4) & kRtnhFlagOnlink) != 0};
  bool fdb = false;
  Status ok = for_each_attribute(
      body.subspan(kNhmsg), [&](uint16_t type, std::span<const uint8_t> value) -> Status {
        switch (type) {
          case kNhaId: {
            Status read = read_word(value, "NHA_ID", nh.id);
            id_seen = nh.id;
            return read;
          }
          case kNhaGroup:
            return decode_group(value, nh);
          case kNhaBlackhole:
            nh.blackhole = true;
            return Ok{};
          case kNhaOif:
            return read_word(value, "NHA_OIF", nh.ifindex);
          case kNhaGateway:
            if (family == 0) {
              return fail("NHA_GATEWAY in a next hop of no address family");
            }
            return read_address(family, value, "NHA_GATEWAY", nh.gateway);
          case kNhaEncap:
          case kNhaEncapType:
            return fail("a next hop with an encapsulation (MPLS, SRv6): not supported");
          case kNhaFdb:
            fdb = true;
            return Ok{};
          default:
            return Ok{};
        }
      });
  if (!ok) {
    return fail("next hop " + std::to_string(nh.id) + ": " + ok.error());
  }
  if (fdb) {
    return std::optional<NexthopMessage>{};  // a bridge's (EVPN), not routing's
  }
  if (nh.id == 0) {
    return fail("a next hop without NHA_ID");
  }
  if (Status members = check_members(nh); !members) {
    return fail(members.error());
  }
  if (add && !nh.group.empty() && (nh.gateway || nh.ifindex != 0 || nh.blackhole)) {
    return fail("next hop " + std::to_string(nh.id) + ": both a group and a next hop");
  }
  return std::optional<NexthopMessage>{std::move(nh)};
}

}  // namespace

DecodedFrame decode_netlink(std::span<const uint8_t> payload) {
  DecodedFrame out;
  size_t at = 0;
  size_t index = 0;
  while (at < payload.size()) {
    ++index;
    // Named only when refused: nothing is allocated per message that decodes.
    auto which = [index] { return "netlink message " + std::to_string(index); };
    if (payload.size() - at < kNetlinkHeader) {
      out.errors.push_back(which() + ": " + std::to_string(payload.size() - at) +
                           " bytes, shorter than a netlink header");
      break;
    }
    const uint32_t length = u32(payload.data() + at);
    const uint16_t type = u16(payload.data() + at + 4);
    if (length < kNetlinkHeader || length > payload.size() - at) {
      // Nothing after it can be found: the rest of the frame is lost, and said so.
      out.errors.push_back(which() + ": length " + std::to_string(length) + " where " +
                           std::to_string(payload.size() - at) + " bytes are left");
      break;
    }
    const auto body = payload.subspan(at + kNetlinkHeader, length - kNetlinkHeader);
    at += std::min<size_t>(align4(length), payload.size() - at);
    if (type == kRtmNewRoute || type == kRtmDelRoute) {
      const bool add = type == kRtmNewRoute;
      auto route = decode_route(add, body);
      if (!route) {
        out.errors.push_back(which() + " (route): " + route.error());
        if (body.size() >= kRtmsg) {
          if (auto prefix = destination_of(body)) {
            out.refused.push_back(
                {.add = add, .route = true, .prefix = *prefix, .before = out.messages.size()});
          }
        }
      } else if (*route) {
        out.messages.emplace_back(std::move(**route));
      } else {
        ++out.ignored;
      }
    } else if (type == kRtmNewNexthop || type == kRtmDelNexthop) {
      const bool add = type == kRtmNewNexthop;
      uint32_t id = 0;
      auto nh = decode_nexthop(add, body, id);
      if (!nh) {
        out.errors.push_back(which() + " (next hop): " + nh.error());
        if (id != 0) {
          out.refused.push_back(
              {.add = add, .route = false, .nexthop_id = id, .before = out.messages.size()});
        }
      } else if (*nh) {
        out.messages.emplace_back(std::move(**nh));
      } else {
        ++out.ignored;
      }
    } else {
      ++out.ignored;  // neighbours (EVPN's MACs), and whatever a later zebra sends
    }
  }
  return out;
}

}  // namespace vigil::fpm

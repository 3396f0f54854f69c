#include "dataplane/kernel/kernel_routes.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

// The netlink macros (NLMSG_*, RTA_*, RTNH_*) are C with C casts; the project's C++ warnings
// about them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

#include <linux/rtnetlink.h>

namespace vigil::dp {
namespace {

size_t address_length(const net::IpAddress& a) {
  return a.family == 4 ? 4 : 16;
}

rtmsg route_header(const net::Prefix& prefix, uint8_t protocol) {
  rtmsg rt{};
  rt.rtm_family = prefix.address.family == 4 ? AF_INET : AF_INET6;
  rt.rtm_dst_len = static_cast<uint8_t>(prefix.length);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = protocol;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  return rt;
}

// No `metric` for a removal: any metric of the table's protocol matches, as list_own() lists
// them all.
void add_destination(NetlinkMessage& msg, const net::Prefix& prefix,
                     std::optional<uint32_t> metric) {
  if (metric) {
    msg.add_attr(RTA_PRIORITY, &*metric, sizeof(*metric));
  }
  if (prefix.length > 0) {
    msg.add_attr(RTA_DST, prefix.address.bytes.data(), address_length(prefix.address));
  }
}

// The kernel's weights go from 1 to 256: larger ones are scaled down together, keeping their
// shares, each at least 1.
uint32_t kernel_weight(uint32_t weight, uint32_t largest) {
  if (largest <= 256) {
    return std::max<uint32_t>(weight, 1);
  }
  return std::max<uint32_t>(
      1, static_cast<uint32_t>((static_cast<uint64_t>(weight) * 256 + largest / 2) / largest));
}

// RTA_MULTIPATH's payload: an rtnexthop per hop, each followed by its gateway attribute.
std::vector<uint8_t> multipath(const std::vector<KernelNextHop>& hops) {
  std::vector<uint8_t> out;
  uint32_t largest = 0;
  for (const auto& h : hops) {
    largest = std::max(largest, h.weight);
  }
  for (const auto& h : hops) {
    const size_t gateway_len = h.gateway ? address_length(*h.gateway) : 0;
    const size_t len = RTNH_LENGTH(h.gateway ? RTA_SPACE(gateway_len) : 0);
    const size_t at = out.size();
    out.resize(at + RTNH_ALIGN(len));
    auto* nh = reinterpret_cast<rtnexthop*>(out.data() + at);
    nh->rtnh_len = static_cast<uint16_t>(len);
    // The kernel's weight is hops + 1, at most 256.
    nh->rtnh_hops =
        static_cast<uint8_t>(std::min<uint32_t>(kernel_weight(h.weight, largest), 256) - 1);
    nh->rtnh_ifindex = h.ifindex;
    if (h.gateway) {
      auto* rta = RTNH_DATA(nh);
      rta->rta_type = RTA_GATEWAY;
      rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(gateway_len));
      std::memcpy(RTA_DATA(rta), h.gateway->bytes.data(), gateway_len);
    }
  }
  return out;
}

}  // namespace

Expected<NetlinkRouteTable> NetlinkRouteTable::open(uint8_t protocol, uint32_t metric) {
  auto socket = NetlinkSocket::open();
  if (!socket) {
    return fail(socket.error());
  }
  socket->strict_dumps();  // list_own() then reads only the protocol's routes
  return NetlinkRouteTable(std::move(*socket), protocol, metric);
}

Expected<std::vector<net::Prefix>> NetlinkRouteTable::list_own() {
  rtmsg request{};
  request.rtm_family = AF_UNSPEC;
  // Filters for a kernel that takes them (strict dumps); any other sends everything, and the
  // same filters apply below.
  request.rtm_table = RT_TABLE_MAIN;
  request.rtm_protocol = protocol_;
  NetlinkMessage msg(RTM_GETROUTE, NLM_F_DUMP, &request, sizeof(request));
  std::set<net::Prefix> found;  // a multipath IPv6 route may come as one message per hop
  Status ok = socket_.dump(msg, [&found, this](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) {
      return;
    }
    const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (rt->rtm_protocol != protocol_ ||
        (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6)) {
      return;
    }
    net::Prefix p{.length = rt->rtm_dst_len};
    p.address.family = rt->rtm_family == AF_INET ? 4 : 6;
    uint32_t table = rt->rtm_table;
    int attr_len = static_cast<int>(RTM_PAYLOAD(h));
    for (auto* a = RTM_RTA(rt); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
      if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == address_length(p.address)) {
        std::memcpy(p.address.bytes.data(), RTA_DATA(a), RTA_PAYLOAD(a));
      } else if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == sizeof(uint32_t)) {
        std::memcpy(&table, RTA_DATA(a), sizeof(table));
      }
    }
    if (table == RT_TABLE_MAIN) {
      found.insert(p);
    }
  });
  if (!ok) {
    return fail("route dump: " + ok.error());
  }
  return std::vector<net::Prefix>(found.begin(), found.end());
}

Status NetlinkRouteTable::replace(const KernelRoute& route) {
  rtmsg rt = route_header(route.prefix, protocol_);
  const bool on_link = std::none_of(route.next_hops.begin(), route.next_hops.end(),
                                    [](const KernelNextHop& h) { return h.gateway.has_value(); });
  if (route.blackhole) {
    rt.rtm_type = RTN_BLACKHOLE;
  } else if (on_link) {
    rt.rtm_scope = RT_SCOPE_LINK;
  }
  NetlinkMessage msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof(rt));
  add_destination(msg, route.prefix, metric_);
  if (route.preferred_source) {
    if (route.preferred_source->family != route.prefix.address.family) {
      return fail(route.prefix.to_string() + ": a source of the other family");
    }
    msg.add_attr(RTA_PREFSRC, route.preferred_source->bytes.data(),
                 address_length(*route.preferred_source));
  }
  if (!route.blackhole && route.next_hops.empty()) {
    return fail(route.prefix.to_string() + ": a route needs a next hop");
  }
  if (route.next_hops.size() == 1) {
    const KernelNextHop& h = route.next_hops.front();
    msg.add_attr(RTA_OIF, &h.ifindex, sizeof(h.ifindex));
    if (h.gateway) {
      msg.add_attr(RTA_GATEWAY, h.gateway->bytes.data(), address_length(*h.gateway));
    }
  } else if (route.next_hops.size() > 1) {
    const std::vector<uint8_t> hops = multipath(route.next_hops);
    msg.add_attr(RTA_MULTIPATH, hops.data(), hops.size());
  }
  if (Status ok = socket_.request(msg); !ok) {
    return fail("cannot install the kernel route " + route.prefix.to_string() + ": " + ok.error());
  }
  return Ok{};
}

Status NetlinkRouteTable::remove(const net::Prefix& prefix) {
  rtmsg rt = route_header(prefix, protocol_);
  rt.rtm_scope = RT_SCOPE_NOWHERE;  // any scope
  rt.rtm_type = 0;                  // any type
  NetlinkMessage msg(RTM_DELROUTE, 0, &rt, sizeof(rt));
  add_destination(msg, prefix, std::nullopt);
  // Gone already (the kernel flushes routes over an interface taken down): what was wanted.
  if (Status ok = socket_.request(msg, ESRCH); !ok) {
    return fail("cannot remove the kernel route " + prefix.to_string() + ": " + ok.error());
  }
  return Ok{};
}

}  // namespace vigil::dp

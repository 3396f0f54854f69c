// The WAN links the mesh's paths leave by: each wan interface the fast path forwards on, in the
// config's order (the order of preference between links), with its address and its provider's
// router in each family. A path (peer, link, endpoint) is sent from the link's address to its
// gateway, whatever the routes say, so a backup link is measured and ready while the default
// route points elsewhere.
//
// A link's gateway in a family is the `via` of the static default route (0.0.0.0/0, ::/0) of
// lowest distance whose next hop is on that link (on one of its subnets, or the interface named).
// Without one, only endpoints on the link's own subnets are reachable over it, directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net/ip.h"
#include "config/config.h"
#include "dataplane/forwarding/route_builder.h"

namespace vigil::dp {

struct WanLinkFamily {
  net::IpAddress source;             // the link's first address in the family
  std::vector<net::Prefix> subnets;  // its addresses' networks: reached without a gateway
  std::optional<net::IpAddress> gateway;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const WanLinkFamily&) const = default;
};

struct WanLink {
  std::string name;
  PortId port = 0;
  std::optional<WanLinkFamily> v4, v6;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const WanLink&) const = default;

  const std::optional<WanLinkFamily>& family(int f) const { return f == 4 ? v4 : v6; }
  // The next hop toward `to` over this link: its gateway, or `to` itself when on one of its
  // subnets; nothing when the link has no address in that family or no way there.
  std::optional<net::IpAddress> next_hop(const net::IpAddress& to) const;
};

// At most kMaxWanLinks (the rest are left out: a path's link is a byte on the wire and in the
// tables).
inline constexpr size_t kMaxWanLinks = 8;
std::vector<WanLink> wan_links_for(const config::Config& config, const PortMap& ports);

}  // namespace vigil::dp

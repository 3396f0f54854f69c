#include "dataplane/mesh/wan_links.h"

#include <algorithm>
#include <limits>

namespace vigil::dp {
namespace {

std::optional<WanLinkFamily> family_of(const config::Config& config,
                                       const config::InterfaceConfig& i, int family) {
  WanLinkFamily f;
  bool have = false;
  for (const net::Prefix& a : i.addresses) {
    if (a.address.family != family) {
      continue;
    }
    if (!have) {
      f.source = a.address;
      have = true;
    }
    f.subnets.push_back(a.network());
  }
  if (!have) {
    return std::nullopt;
  }
  uint32_t best = std::numeric_limits<uint32_t>::max();
  for (const config::StaticRoute& r : config.routing.static_routes) {
    if (r.blackhole || r.prefix.length != 0 || r.prefix.address.family != family ||
        r.distance >= best) {
      continue;
    }
    for (const config::NextHop& h : r.next_hops) {
      if (!h.via || h.via->family != family) {
        continue;
      }
      const bool on_this_link =
          h.interface.empty()
              ? std::any_of(f.subnets.begin(), f.subnets.end(),
                            [&](const net::Prefix& s) { return s.contains(*h.via); })
              : h.interface == i.name;
      if (on_this_link) {
        f.gateway = *h.via;
        best = r.distance;
        break;
      }
    }
  }
  return f;
}

}  // namespace

std::optional<net::IpAddress> WanLink::next_hop(const net::IpAddress& to) const {
  const auto& f = family(to.family);
  if (!f) {
    return std::nullopt;
  }
  for (const net::Prefix& s : f->subnets) {
    if (s.contains(to)) {
      return to;
    }
  }
  return f->gateway;
}

std::vector<WanLink> wan_links_for(const config::Config& config, const PortMap& ports) {
  std::vector<WanLink> links;
  for (const config::InterfaceConfig& i : config.interfaces) {
    if (links.size() == kMaxWanLinks) {
      break;
    }
    const auto port = ports.find(i.name);
    if (i.role != config::InterfaceRole::kWan || !i.enabled || port == ports.end()) {
      continue;
    }
    links.push_back(WanLink{.name = i.name,
                            .port = port->second,
                            .v4 = family_of(config, i, 4),
                            .v6 = family_of(config, i, 6)});
  }
  return links;
}

}  // namespace vigil::dp

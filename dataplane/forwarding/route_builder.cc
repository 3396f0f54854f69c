#include "dataplane/forwarding/route_builder.h"

#include <algorithm>

namespace vigil::dp {
namespace {

net::Prefix host_prefix(const net::IpAddress& a) {
  return net::Prefix{a, a.max_prefix()};
}

// The port whose subnet holds `gateway`, if any.
std::optional<PortId> connected_port(const RoutingInput& input, const net::IpAddress& gateway) {
  for (const auto& p : input.ports) {
    for (const auto& a : p.addresses) {
      if (a.contains(gateway)) {
        return p.port;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<std::vector<Route>> build_routes(const RoutingInput& input, const DownPorts& down) {
  // Distance per prefix: connected and local 0, static as configured.
  std::map<net::Prefix, Route> best;
  for (const auto& p : input.ports) {
    const bool up = !down.contains(p.port);
    for (const auto& a : p.addresses) {
      if (up) {
        best[a.network()] = {.prefix = a.network(),
                             .target = make_forward_group({{.port = p.port}}),
                             .source = RouteSource::kConnected};
      }
      const net::Prefix host = host_prefix(a.address);
      best[host] = {
          .prefix = host, .target = make_group(RouteAction::kLocal), .source = RouteSource::kLocal};
    }
  }
  for (const auto& r : input.static_routes) {
    NextHopGroup target;
    if (r.blackhole) {
      target = make_group(RouteAction::kBlackhole);
    } else {
      std::vector<NextHop> members;
      for (const auto& hop : r.next_hops) {
        std::optional<PortId> port = hop.port;
        if (!hop.interface_named) {
          port = connected_port(input, *hop.via);
          if (!port) {
            return fail("static route " + r.prefix.to_string() + ": next hop " +
                        hop.via->to_string() +
                        " is on no connected subnet of a forwarding port; name its interface "
                        "(recursive next hops arrive with BGP)");
          }
        }
        if (port && !down.contains(*port)) {
          members.push_back({.port = *port, .gateway = hop.via, .weight = hop.weight});
        }
      }
      if (members.empty()) {
        continue;  // every next hop is over a port that is down or not forwarding
      }
      target = make_forward_group(std::move(members));
    }
    auto it = best.find(r.prefix);
    if (it == best.end() || r.distance < it->second.distance) {
      best[r.prefix] = {.prefix = r.prefix,
                        .target = std::move(target),
                        .source = RouteSource::kStatic,
                        .distance = r.distance};
    }
  }
  std::vector<Route> routes;
  routes.reserve(best.size());
  for (auto& [prefix, route] : best) {
    routes.push_back(std::move(route));
  }
  return routes;
}

}  // namespace vigil::dp

#include "dataplane/forwarding/fpm_routes.h"

#include <vector>

namespace vigil::dp {

std::optional<NextHopGroup> fpm_route_target(const fpm::ResolvedRoute& route,
                                             const std::map<int, PortId>& port_by_ifindex,
                                             const DownPorts& down) {
  switch (route.kind) {
    case fpm::RouteKind::kBlackhole:
      return make_group(RouteAction::kBlackhole);
    case fpm::RouteKind::kUnreachable:
    case fpm::RouteKind::kProhibit:
      return make_group(RouteAction::kNoRoute);
    case fpm::RouteKind::kUnicast:
      break;
  }
  std::vector<NextHop> members;
  for (const fpm::FpmNextHop& hop : route.next_hops) {
    const auto port = port_by_ifindex.find(static_cast<int>(hop.ifindex));
    if (port == port_by_ifindex.end() || down.contains(port->second)) {
      continue;
    }
    members.push_back({.port = port->second, .gateway = hop.gateway, .weight = hop.weight});
  }
  if (members.empty()) {
    return std::nullopt;
  }
  return make_forward_group(std::move(members));
}

}  // namespace vigil::dp

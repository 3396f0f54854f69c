#include "dataplane/kernel/mesh_kernel_routes.h"

#include <algorithm>

namespace vigil::dp {

std::vector<KernelRoute> mesh_kernel_routes(const std::vector<Route>& routes, PortId tunnel_port,
                                            int ifindex, const MeshSources& sources) {
  std::vector<KernelRoute> out;
  for (const Route& r : routes) {
    const auto& members = r.target.members;
    const bool into_tunnel =
        r.target.action == RouteAction::kForward &&
        std::any_of(members.begin(), members.end(),
                    [tunnel_port](const NextHop& m) { return m.port == tunnel_port; });
    const auto& source = r.prefix.address.family == 4 ? sources.v4 : sources.v6;
    if (!into_tunnel || !source) {
      continue;
    }
    out.push_back(
        {.prefix = r.prefix, .next_hops = {{.ifindex = ifindex}}, .preferred_source = source});
  }
  return out;
}

}  // namespace vigil::dp

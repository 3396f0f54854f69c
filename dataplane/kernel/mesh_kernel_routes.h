// Which routes the box's kernel gets over the mesh's device (mesh_kernel_path.h), from the fast
// path's: pure, so tested without a kernel (tests/unit/dataplane/kernel/).
#pragma once

#include <optional>
#include <vector>

#include "common/net/ip.h"
#include "dataplane/forwarding/route.h"
#include "dataplane/kernel/kernel_route.h"

namespace vigil::dp {

// The device's name: the same on every box, shown by `ip link`.
inline constexpr const char* kMeshKernelInterface = "vigil-mesh";

// The box's addresses its own traffic to other sites leaves from (the peers' allowed IPs
// for this site hold them; a WAN address would be refused there).
struct MeshSources {
  std::optional<net::IpAddress> v4, v6;
};

// The kernel routes for the mesh's device of index `ifindex`: one for each of `routes` that
// goes into the tunnel (`tunnel_port`), with the source of its family; a family without a
// source has none (the kernel would pick a WAN address, which the other site drops).
std::vector<KernelRoute> mesh_kernel_routes(const std::vector<Route>& routes, PortId tunnel_port,
                                            int ifindex, const MeshSources& sources);

}  // namespace vigil::dp

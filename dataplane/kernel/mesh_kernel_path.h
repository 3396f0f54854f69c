// The kernel's side of the mesh's device (FastPathConfig::mesh_kernel_interface): the box's
// own traffic with other sites. vigil-l7, sshd or a ping from the box reach another site's
// networks by routes `prefix dev vigil-mesh src <the box's LAN address>`; vigil-dp reads what
// the kernel sends there and seals it into the tunnel, and writes there what a tunnel brought
// for the box, so the kernel takes it as arriving from that site. The device is a point-to-
// point hop inside the box: no ARP, no IPv6 link-local, the tunnel's MTU.
//
// While vigil-dp is away the device is gone with it, and its routes with it: the kernel
// fallback's blackholes for the same prefixes (fib_mirror.h) keep that traffic from leaving
// in the clear.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/route.h"
#include "dataplane/kernel/fib_mirror.h"
#include "dataplane/kernel/interface_addresses.h"
#include "dataplane/kernel/kernel_routes.h"
#include "dataplane/kernel/mesh_kernel_routes.h"

namespace vigil::dp {

class MeshKernelPath {
 public:
  // The device of name `name`, created by the fast path already.
  static Expected<std::unique_ptr<MeshKernelPath>> open(const std::string& name);

  // No ARP, no IPv6 address of its own, up, `mtu` (again after a commit: it follows the
  // smallest port MTU).
  Status set_up(uint32_t mtu);
  // The device's routes made exactly those of mesh_kernel_routes().
  Status sync(const std::vector<Route>& routes, PortId tunnel_port, const MeshSources& sources);
  // Routes the kernel took.
  size_t routes_installed() const { return routes_.installed(); }
  const std::string& name() const { return name_; }

 private:
  MeshKernelPath(std::string name, int ifindex, InterfaceAddresses link, NetlinkRouteTable table)
      : name_(std::move(name)),
        ifindex_(ifindex),
        link_(std::move(link)),
        table_(std::move(table)),
        routes_(table_) {}

  std::string name_;
  int ifindex_;
  InterfaceAddresses link_;
  NetlinkRouteTable table_;
  FibMirror routes_;  // holds a reference to table_: the object never moves (on the heap)
  bool addresses_cleared_ = false;
};

}  // namespace vigil::dp

#include "dataplane/kernel/mesh_kernel_path.h"

#include <net/if.h>

#include <fstream>

namespace vigil::dp {

Expected<std::unique_ptr<MeshKernelPath>> MeshKernelPath::open(const std::string& name) {
  const int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (ifindex == 0) {
    return fail("the mesh's kernel device " + name + " is not there");
  }
  auto link = InterfaceAddresses::open();
  if (!link) {
    return fail(link.error());
  }
  auto table = NetlinkRouteTable::open(kVigilMeshRouteProtocol, kVigilMeshRouteMetric);
  if (!table) {
    return fail(table.error());
  }
  return std::unique_ptr<MeshKernelPath>(
      new MeshKernelPath(name, ifindex, std::move(*link), std::move(*table)));
}

namespace {

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream file(path);
  file << value << '\n';  // a kernel without IPv6 has no such file, and nothing to stop
}

}  // namespace

Status MeshKernelPath::set_up(uint32_t mtu) {
  if (!addresses_cleared_) {
    // No address of its own, so the kernel sends no router solicitation or MLD report into
    // it (the fast path could only drop them). The tap came up with a link-local address
    // already: IPv6 off and on again removes it, and none is made again. Once, before any
    // route goes over the device (turning IPv6 off would flush them).
    const std::string conf = "/proc/sys/net/ipv6/conf/" + name_ + "/";
    write_sysctl(conf + "addr_gen_mode", "1");  // none
    write_sysctl(conf + "disable_ipv6", "1");
    write_sysctl(conf + "disable_ipv6", "0");
    addresses_cleared_ = true;
  }
  if (Status ok = link_.set_up(ifindex_, mtu, /*no_arp=*/true); !ok) {
    return fail(name_ + ": " + ok.error());
  }
  return Ok{};
}

Status MeshKernelPath::sync(const std::vector<Route>& routes, PortId tunnel_port,
                            const MeshSources& sources) {
  return routes_.sync(mesh_kernel_routes(routes, tunnel_port, ifindex_, sources));
}

}  // namespace vigil::dp

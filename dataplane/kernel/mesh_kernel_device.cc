#include "dataplane/kernel/mesh_kernel_device.h"

#include <net/if.h>

#include <fstream>

#include "dataplane/kernel/interface_addresses.h"
#include "dataplane/kernel/kernel_routes.h"

namespace vigil::dp {
namespace {

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream file(path);
  file << value << '\n';  // a kernel without IPv6 has no such file, and nothing to stop
}

}  // namespace

Expected<std::unique_ptr<MeshKernelPath>> open_mesh_kernel_path(const std::string& name) {
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
  // No address of its own, so the kernel sends no router solicitation or MLD report into it
  // (the fast path could only drop them). The TAP came up with a link-local address already:
  // IPv6 off and on again removes it, and none is made again. Before any route goes over it
  // (turning IPv6 off would flush them).
  const std::string conf = "/proc/sys/net/ipv6/conf/" + name + "/";
  write_sysctl(conf + "addr_gen_mode", "1");  // none
  write_sysctl(conf + "disable_ipv6", "1");
  write_sysctl(conf + "disable_ipv6", "0");
  auto addresses = std::make_shared<InterfaceAddresses>(std::move(*link));
  return std::make_unique<MeshKernelPath>(
      name, ifindex, std::make_unique<NetlinkRouteTable>(std::move(*table)),
      [addresses, ifindex, name](uint32_t mtu) -> Status {
        if (Status ok = addresses->set_up(ifindex, mtu, /*no_arp=*/true); !ok) {
          return fail(name + ": " + ok.error());
        }
        return Ok{};
      });
}

}  // namespace vigil::dp

// The kernel's side of the mesh's device (FastPathConfig::mesh_kernel_interface): the box's
// own traffic with other sites. vigil-l7, sshd or a ping from the box reach another site's
// networks by routes `prefix dev vigil-mesh src <the box's address in its networks>`;
// vigil-dp reads what the kernel sends there and seals it into the tunnel, and writes there
// what a tunnel brought for the box, so the kernel takes it as arriving from that site. The
// device is a point-to-point hop inside the box: no ARP, no IPv6 address, the tunnel's MTU.
//
// The kernel drops routes on its own (the device taken down and up by hand, the source
// address removed): every second the routes are read back and what is missing put back.
// While vigil-dp is away the device is gone with it, and its routes with it (in af_xdp mode
// with kernel_fallback the mirror's blackholes for the same prefixes then keep that traffic
// from leaving in the clear; elsewhere the kernel's own routes apply: docs/operations.md).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/kernel/fib_mirror.h"
#include "dataplane/kernel/mesh_kernel_routes.h"

namespace vigil::dp {

class MeshKernelPath {
 public:
  // Brings the device up with the MTU given, without ARP (kernel_mesh_device.h: the real one).
  using LinkSetUp = std::function<Status(uint32_t mtu)>;

  MeshKernelPath(std::string name, int ifindex, std::unique_ptr<KernelRouteTable> table,
                 LinkSetUp set_up);

  // The routes and MTU the device must have, applied at once (an error is logged and retried
  // at the next check).
  void want(std::vector<KernelRoute> routes, uint32_t mtu);
  // Every second: the link and routes read back and made what is wanted again.
  void tick(std::chrono::steady_clock::time_point now);

  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  size_t routes_installed() const { return routes_.installed(); }
  // The last check's failure, empty when the kernel has what is wanted.
  const std::string& error() const { return error_; }

 private:
  void sync();

  std::string name_;
  int ifindex_;
  std::unique_ptr<KernelRouteTable> table_;
  FibMirror routes_;  // holds a reference to *table_, which never moves
  LinkSetUp set_up_;
  std::vector<KernelRoute> wanted_;
  uint32_t mtu_ = 0;
  std::string error_;
  int failures_ = 0;  // checks failed in a row
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace vigil::dp

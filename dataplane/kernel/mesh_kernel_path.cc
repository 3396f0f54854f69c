#include "dataplane/kernel/mesh_kernel_path.h"

#include <utility>

#include "common/logging.h"

namespace vigil::dp {

MeshKernelPath::MeshKernelPath(std::string name, int ifindex,
                               std::unique_ptr<KernelRouteTable> table, LinkSetUp set_up)
    : name_(std::move(name)),
      ifindex_(ifindex),
      table_(std::move(table)),
      routes_(*table_),
      set_up_(std::move(set_up)) {}

void MeshKernelPath::want(std::vector<KernelRoute> routes, uint32_t mtu) {
  wanted_ = std::move(routes);
  mtu_ = mtu;
  sync();
}

void MeshKernelPath::tick(std::chrono::steady_clock::time_point now) {
  if (now < next_check_) {
    return;
  }
  next_check_ = now + std::chrono::seconds(1);
  sync();
}

void MeshKernelPath::sync() {
  Status ok = set_up_(mtu_);
  if (ok) {
    // Read back, not trusted from memory: the kernel may have dropped some since.
    ok = routes_.recheck();
  }
  if (ok) {
    ok = routes_.sync(wanted_);
  }
  if (!ok) {
    // Said once it lasts past the next check: a new IPv6 source address is refused as a
    // route's source while the kernel still checks it is unique (DAD, a second or two).
    if (++failures_ == 2 || (failures_ > 2 && ok.error() != error_)) {
      log::error("the box's own traffic to other sites: the mesh device's routes are not set",
                 {{"device", name_}, {"error", ok.error()}});
    }
    error_ = ok.error();
    return;
  }
  if (failures_ >= 2) {
    log::info("the box's own traffic to other sites: the mesh device's routes are set again",
              {{"device", name_}});
  }
  failures_ = 0;
  error_.clear();
}

}  // namespace vigil::dp

// FastPathControl and the kernel: the ports' links (a port whose link is down has its routes
// withdrawn), neighbours the lcores asked for resolved by the kernel and what it resolved
// installed, static neighbours, in dpdk mode the TAPs' MTU and addresses, and in af_xdp mode
// the kernel fallback (the FIB mirror, kernel/fib_mirror.h).
#include <net/if.h>
#include <rte_ether.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/logging.h"
#include "dataplane/fast_path_control.h"
#include "dataplane/kernel/kernel_routes.h"
#include "dataplane/mesh/mesh_control.h"
#include "dataplane/offload/flow_offloader.h"
#include "dataplane/runtime/fast_path.h"

namespace vigil::dp {

void FastPathControl::tick() {
  poll_links();
  poll_neighbours();
  if (!mirror_error_.empty() && std::chrono::steady_clock::now() >= mirror_retry_at_) {
    sync_kernel_mirror();
  }
  if (mesh_kernel_) {
    mesh_kernel_->tick(std::chrono::steady_clock::now());
  }
  if (offloader_) {
    offloader_->tick();
  }
  if (mesh_) {
    mesh_->tick(std::chrono::steady_clock::now(), std::chrono::system_clock::now());
  }
  tick_bgp();
}

void FastPathControl::poll_links() {
  if (!running() || !applied_) {
    return;
  }
  DownPorts down;
  const std::vector<bool> up = fast_path_->links_up();
  for (size_t p = 0; p < up.size(); ++p) {
    const auto id = static_cast<PortId>(p);
    if (!up[p]) {
      down.insert(id);
    }
    if (up[p] == down_.contains(id)) {
      log::warn(up[p] ? "link up: its routes are back" : "link down: its routes are withdrawn",
                {{"port", fast_path_->ports()[p]->name()}});
    }
  }
  if (down == down_) {
    return;
  }
  DownPorts before = std::exchange(down_, std::move(down));
  if (mirror_) {
    mirror_->forget();  // the kernel flushes routes over an interface taken down: read again
  }
  if (Status ok = apply_routes(*applied_); !ok) {
    // The FIB still has the routes of `before`: say so, and try again at the next tick.
    down_ = std::move(before);
    log::error("routes not rebuilt after a link change", {{"error", ok.error()}});
    return;
  }
  if (mesh_) {
    // The tunnels may leave by another WAN link now: each tells its peer where it is.
    mesh_->paths_changed();
  }
}

Status FastPathControl::apply_kernel_interfaces(const FastPathPlan& plan) {
  for (const auto& p : plan.ports) {
    const int ifindex = static_cast<int>(if_nametoindex(p.name.c_str()));
    if (ifindex == 0) {
      return fail("the exception path's interface " + p.name + " is gone");
    }
    if (Status ok = addresses_->set_up(ifindex, p.mtu); !ok) {
      return fail(p.name + ": " + ok.error());
    }
    if (Status ok = addresses_->sync(ifindex, p.addresses); !ok) {
      return fail(p.name + ": " + ok.error());
    }
  }
  return Ok{};
}

void FastPathControl::apply_neighbours(const FastPathPlan& plan) {
  std::vector<std::pair<PortId, net::IpAddress>> wanted;
  for (size_t p = 0; p < plan.ports.size(); ++p) {
    const auto port = static_cast<PortId>(p);
    for (const auto& n : plan.ports[p].neighbours) {
      rte_ether_addr mac{};
      std::memcpy(mac.addr_bytes, n.mac.data(), 6);
      if (Status ok = fast_path_->neighbours().set(NeighbourKey::from(port, n.address), mac); !ok) {
        log::error("static neighbour not installed", {{"error", ok.error()}});
        continue;
      }
      wanted.emplace_back(port, n.address);
    }
  }
  for (const auto& old : static_neighbours_) {
    if (std::find(wanted.begin(), wanted.end(), old) == wanted.end()) {
      fast_path_->neighbours().remove(NeighbourKey::from(old.first, old.second));
    }
  }
  static_neighbours_ = std::move(wanted);
}

void FastPathControl::poll_neighbours() {
  if (!running() || !kernel_) {
    return;
  }
  NeighbourTable& table = fast_path_->neighbours();
  std::vector<NeighbourKey> asked;
  for (const NeighbourKey& key : table.take_requests(256)) {
    if (std::find(asked.begin(), asked.end(), key) != asked.end()) {
      continue;
    }
    asked.push_back(key);
    for (const auto& [ifindex, port] : port_by_ifindex_) {
      if (port == key.port) {
        if (Status ok = kernel_->resolve(ifindex, key.ip()); !ok) {
          log::warn("neighbour resolution request failed", {{"error", ok.error()}});
        }
      }
    }
  }
  auto entries = kernel_->dump();
  if (!entries) {
    log::warn("cannot read the kernel's neighbours", {{"error", entries.error()}});
    return;
  }
  std::map<std::pair<PortId, net::IpAddress>, std::array<uint8_t, 6>> now;
  for (const auto& k : *entries) {
    auto port = port_by_ifindex_.find(k.ifindex);
    if (port != port_by_ifindex_.end()) {
      now[{port->second, k.address}] = k.mac;
    }
  }
  auto is_static = [&](const std::pair<PortId, net::IpAddress>& id) {
    return std::find(static_neighbours_.begin(), static_neighbours_.end(), id) !=
           static_neighbours_.end();
  };
  for (const auto& [id, mac] : now) {
    auto old = learned_.find(id);
    if (is_static(id) || (old != learned_.end() && old->second == mac)) {
      continue;
    }
    rte_ether_addr m{};
    std::memcpy(m.addr_bytes, mac.data(), 6);
    if (Status ok = table.set(NeighbourKey::from(id.first, id.second), m); !ok) {
      log::warn("neighbour not installed", {{"error", ok.error()}});
    }
  }
  for (const auto& [id, mac] : learned_) {
    if (!now.contains(id) && !is_static(id)) {
      table.remove(NeighbourKey::from(id.first, id.second));
    }
  }
  learned_ = std::move(now);
}

void FastPathControl::mirror_to_kernel(const FastPathPlan& plan, std::vector<KernelRoute> wanted) {
  fallback_ = plan.mirrors_to_kernel();
  mirror_wanted_ = std::move(wanted);
  fallback_devices_.clear();
  if (fallback_) {
    for (const auto& p : plan.ports) {
      fallback_devices_.push_back(p.device);
    }
  } else {
    kernel_forwarding_.reset();  // left on as it is: the operator's from here
  }
  sync_kernel_mirror();
}

void FastPathControl::sync_kernel_mirror() {
  if (fallback_) {
    // Every time, not once: an interface re-created comes back with forwarding off. Only
    // what differs is written.
    auto on = enable_kernel_forwarding(fallback_devices_);
    if (!on) {
      mirror_error_ = "kernel forwarding not turned on: " + on.error();
      mirror_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      log::error("kernel fallback", {{"error", mirror_error_}});
      return;
    }
    if (!on->ipv6_per_interface &&
        (!kernel_forwarding_ || kernel_forwarding_->ipv6_per_interface)) {
      log::warn(
          "kernel fallback: this kernel has no per-interface IPv6 forwarding switch "
          "(force_forwarding, Linux 6.17): net.ipv6.conf.all.forwarding is on, so no interface "
          "takes addresses from router advertisements any more");
    }
    kernel_forwarding_ = *on;
  }
  if (!mirror_) {
    auto table = NetlinkRouteTable::open();
    if (!table) {
      mirror_error_ = table.error();
      mirror_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      return;
    }
    kernel_routes_ = std::make_unique<NetlinkRouteTable>(std::move(*table));
    mirror_ = std::make_unique<FibMirror>(*kernel_routes_);
  }
  Status ok = fallback_ ? mirror_->sync(mirror_wanted_) : mirror_->clear();
  if (!ok) {
    if (ok.error() != mirror_error_) {
      log::error("kernel fallback: the kernel's routes are not the fast path's",
                 {{"error", ok.error()}});
    }
    mirror_error_ = ok.error();
    mirror_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    return;
  }
  if (!mirror_error_.empty()) {
    log::info("kernel fallback: the kernel's routes are the fast path's again");
  }
  mirror_error_.clear();
}

}  // namespace vigil::dp

// FastPathControl: checks and applies each commit's plan, starts the fast path (EAL, ports,
// workers) on the first that forwards, installs routes, and offloads flows to the classifier.
// The kernel side is in fast_path_kernel_sync.cc, show and metrics in fast_path_status.cc.
#include "dataplane/fast_path_control.h"

#include <net/if.h>

#include <cstring>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "common/utc_time.h"
#include "dataplane/kernel/xdp_features.h"
#include "dataplane/mesh/mesh_control.h"
#include "dataplane/offload/flow_offloader.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/fast_path.h"

namespace vigil::dp {

FastPathControl::FastPathControl(XsksMapFor xsks_map_for, ClassifierMapsFor maps_for)
    : xsks_map_for_(std::move(xsks_map_for)), maps_for_(std::move(maps_for)) {}

FastPathControl::~FastPathControl() {
  fpm_server_.reset();  // stop_serving() did, unless the loop never ran
  offloader_.reset();   // stops offloading while the classifiers are still there
  mesh_.reset();
  fast_path_.reset();  // stops the workers before EAL goes
  eal_.reset();
}

Status FastPathControl::check(const config::Config& c) const {
  const FastPathPlan plan = plan_from(c);
  if (!plan.forwarding) {
    return Ok{};  // at once when not forwarding, else by a restart (needs_restart)
  }
  auto routes = check_plan(plan, std::thread::hardware_concurrency());
  if (!routes) {
    return fail(routes.error());
  }
  if (eal_ && !running() && plan.settings == failed_with_ && plan.devices() == failed_ports_ &&
      plan.mesh == failed_with_mesh_) {
    return fail("the fast path failed to start on these settings in this vigil-dp (" +
                failed_because_ + "): change them, and vigil-dp restarts to try again");
  }
  if (!running() || needs_restart(c)) {
    return Ok{};  // a new fast path takes the routes from scratch
  }
  return fast_path_->routes().check(*routes,
                                    plan.mesh_peers > 0 ? kTunnelPort + 1u : plan.ports.size());
}

bool FastPathControl::needs_restart(const config::Config& c) const {
  const FastPathPlan plan = plan_from(c);
  if (eal_ && !running()) {
    // A start failed in this process and DPDK's EAL cannot start twice: other settings take a
    // new process (the same ones check() refuses).
    return plan.forwarding && (plan.settings != failed_with_ || plan.devices() != failed_ports_ ||
                               plan.mesh != failed_with_mesh_);
  }
  if (!running()) {
    return false;
  }
  // The mesh's kernel device is made with the fast path: a mesh section appearing or going
  // takes a new one (peers joining and leaving do not).
  return !plan.forwarding || plan.settings != started_with_ || plan.devices() != started_ports_ ||
         plan.mesh != started_with_mesh_;
}

Status FastPathControl::start(const config::Config& c, const FastPathPlan& plan) {
  Status started = try_start(c, plan);
  if (!started) {
    // Nothing half-running: no workers, no sockets in the classifier's map. DPDK's EAL cannot
    // start twice in one process, so a failed start needs a restart of vigil-dp to retry.
    offloader_.reset();
    mesh_.reset();
    mesh_kernel_.reset();
    fast_path_.reset();
    kernel_.reset();
    addresses_.reset();
    port_by_ifindex_.clear();
    if (eal_) {
      failed_with_ = plan.settings;
      failed_ports_ = plan.devices();
      failed_with_mesh_ = plan.mesh;
      failed_because_ = started.error();
      return fail(started.error() +
                  " (a commit that fixes it restarts vigil-dp: DPDK starts once per process)");
    }
  }
  return started;
}

Status FastPathControl::try_start(const config::Config& c, const FastPathPlan& plan) {
  const FastPathSettings& d = plan.settings;
  if (eal_) {
    return fail("the fast path failed to start earlier in this process");
  }
  auto eal = Eal::start({.main_lcore = d.control_lcore,
                         .worker_lcores = {d.lcores.begin(), d.lcores.end()},
                         .memory_mb = d.memory_mb,
                         .allow_pci = true});
  if (!eal) {
    return fail(eal.error());
  }
  eal_ = std::move(*eal);
  FastPathConfig fc{.worker_lcores = {d.lcores.begin(), d.lcores.end()}, .mbufs = d.mbufs};
  fc.idle.sleep = d.adaptive_rx;
  fc.tx_hold_us = d.tx_hold_us;
  // The classifier forwards offloaded flows, so only where it feeds the ports (af_xdp).
  fc.flow_offload = d.flow_offload && d.mode == PortMode::kAfXdp;
  fc.route_limits.fib.max_routes4 = d.max_routes4;
  fc.route_limits.fib.max_routes6 = d.max_routes6;
  for (const auto& p : plan.ports) {
    if (d.mode == PortMode::kDpdk) {
      fc.ports.push_back(EthdevPortConfig{.name = p.name, .devargs = p.device});
      // The exception path: a TAP named like the interface is the kernel's view of it.
      fc.kernel_interfaces.push_back(p.name);
      continue;
    }
    const int map_fd = xsks_map_for_(p.device);
    if (map_fd < 0) {
      return fail("port " + p.name + ": the classifier is not running on " + p.device);
    }
    fc.ports.push_back(
        AfXdpPortConfig{.name = p.name, .interface = p.device, .xsks_map_fd = map_fd});
    port_by_ifindex_[static_cast<int>(if_nametoindex(p.device.c_str()))] =
        static_cast<PortId>(fc.ports.size() - 1);
  }
  auto kernel = KernelNeighbours::open();
  if (!kernel) {
    return fail(kernel.error());
  }
  kernel_ = std::move(*kernel);
  if (plan.mesh) {
    fc.mesh_kernel_interface = kMeshKernelInterface;
  }
  auto fp = FastPath::create(fc);
  if (!fp) {
    return fail(fp.error());
  }
  fast_path_ = std::move(*fp);
  if (plan.mesh) {
    auto path = open_mesh_kernel_path(kMeshKernelInterface);
    if (!path) {
      return fail(path.error());
    }
    mesh_kernel_ = std::move(*path);
  }
  if (d.mode == PortMode::kDpdk) {
    auto addresses = InterfaceAddresses::open();
    if (!addresses) {
      return fail(addresses.error());
    }
    addresses_ = std::move(*addresses);
    for (size_t p = 0; p < plan.ports.size(); ++p) {
      port_by_ifindex_[static_cast<int>(if_nametoindex(plan.ports[p].name.c_str()))] =
          static_cast<PortId>(p);
    }
    if (Status ok = apply_kernel_interfaces(plan); !ok) {
      return ok;
    }
  }
  if (fast_path_->offload_channel() != nullptr) {
    start_offload(plan.ports);
  }
  mesh_ = std::make_unique<MeshControl>(fast_path_->mesh_channels(), fast_path_->tunnel_tables(),
                                        fast_path_->tunnel_stats(), fast_path_->pool(), kTunnelPort,
                                        plan.mesh_mtu);
  started_with_ = d;
  started_ports_ = plan.devices();
  started_with_mesh_ = plan.mesh;
  const std::vector<bool> up = fast_path_->links_up();
  for (size_t p = 0; p < up.size(); ++p) {
    if (!up[p]) {
      down_.insert(static_cast<PortId>(p));
    }
  }
  if (Status ok = apply_mesh(c, plan); !ok) {
    return ok;
  }
  if (Status ok = apply_routes(plan); !ok) {
    return ok;
  }
  apply_neighbours(plan);
  // The next hops the kernel resolved while it forwarded: known before the first packet.
  poll_neighbours();
  if (Status ok = fast_path_->start(); !ok) {
    return ok;
  }
  log::info("fast path forwarding", {{"ports", static_cast<int64_t>(plan.ports.size())},
                                     {"lcores", static_cast<int64_t>(d.lcores.size())},
                                     {"hugepages", eal_->hugepages()}});
  return Ok{};
}

Status FastPathControl::apply(const config::Config& c) {
  const FastPathPlan plan = plan_from(c);
  if (!plan.forwarding) {
    mirror_to_kernel(plan, {});  // an earlier vigil-dp's mirror is not wanted any more
    return Ok{};
  }
  if (!running()) {
    Status started = start(c, plan);
    if (started) {
      apply_bgp(plan);
    }
    return started;
  }
  if (addresses_) {
    if (Status ok = apply_kernel_interfaces(plan); !ok) {
      return ok;
    }
  }
  // The tunnels before the routes to them: a packet routed to the mesh finds its peer.
  if (Status ok = apply_mesh(c, plan); !ok) {
    return ok;
  }
  apply_bgp(plan);  // before the routes: BGP removed leaves them without zebra's
  if (Status ok = apply_routes(plan); !ok) {
    return ok;
  }
  apply_neighbours(plan);
  return Ok{};
}

Status FastPathControl::apply_mesh(const config::Config& c, const FastPathPlan& plan) {
  auto mesh = mesh_plan_for(c, unix_now());
  if (!mesh) {
    return fail(mesh.error());
  }
  if (!*mesh) {
    mesh_->stop();
    return Ok{};
  }
  (*mesh)->links = wan_links_for(c, plan.port_map);
  mesh_->apply(**mesh, plan.mesh_mtu);
  return Ok{};
}

Status FastPathControl::apply_routes(const FastPathPlan& plan) {
  auto routes = build_routes(plan.routing, down_);
  if (!routes) {
    return fail(routes.error());
  }
  std::vector<PortInfo> infos;
  const auto& ports = fast_path_->ports();
  for (const auto& p : plan.ports) {
    PortInfo info{.mac = ports[infos.size()]->mac(),
                  .mtu = static_cast<uint16_t>(p.mtu),
                  .allow_martians = p.allow_martians,
                  .vlans = p.vlans};
    for (const auto& a : p.addresses) {
      if (a.address.family == 4 && !info.has_v4) {
        info.has_v4 = true;
        std::memcpy(info.v4, a.address.bytes.data(), 4);
      } else if (a.address.family == 6 && !info.has_v6) {
        info.has_v6 = true;
        std::memcpy(info.v6, a.address.bytes.data(), 16);
      }
    }
    infos.push_back(info);
  }
  std::vector<KernelRoute> mirrored;
  if (plan.mirrors_to_kernel()) {
    std::vector<net::Prefix> connected;
    std::vector<int> ifindex_of;
    for (const auto& p : plan.ports) {
      for (const auto& a : p.addresses) {
        connected.push_back(a.network());
      }
      ifindex_of.push_back(static_cast<int>(if_nametoindex(p.device.c_str())));
    }
    // The mesh's networks fail closed: while vigil-dp is away the kernel discards what would
    // have gone through a tunnel, rather than send it in the clear by a default route.
    std::vector<Route> with_mesh = *routes;
    add_mesh_routes(with_mesh, plan.mesh_prefixes);
    for (Route& r : with_mesh) {
      if (r.target.action == RouteAction::kForward && !r.target.members.empty() &&
          r.target.members[0].port == kTunnelPort) {
        r.target = make_group(RouteAction::kBlackhole);
      }
    }
    mirrored = mirror_routes(with_mesh, connected, ifindex_of);
  }
  // Routes to the tunnel are vigil-dp's alone: the kernel cannot carry them (never mirrored).
  add_mesh_routes(*routes, plan.mesh_prefixes);
  if (plan.mesh_peers > 0 || fast_path_->mesh_kernel_device() != nullptr) {
    infos.resize(kTunnelPort + 1u);
    infos[kTunnelPort].mtu = plan.mesh_mtu;
  }
  if (const Port* device = fast_path_->mesh_kernel_device(); device != nullptr) {
    // What the kernel sends there is admitted from the box's addresses alone, and routed
    // only into the tunnel (admit and route stages).
    PortInfo& info = infos.at(fast_path_->mesh_kernel_port());
    info.mac = device->mac();
    info.mtu = plan.mesh_mtu;
    info.from_kernel = true;
    for (const auto& p : plan.ports) {
      info.allow_martians |= p.allow_martians;  // what the site's networks use, the box too
    }
  }
  std::vector<KernelRoute> over_mesh_device;
  if (mesh_kernel_) {
    over_mesh_device =
        mesh_kernel_routes(*routes, kTunnelPort, mesh_kernel_->ifindex(), plan.mesh_sources);
  }
  // zebra's routes over them, where they win (route_selection.h): their next hops again for
  // the ports up now.
  reselect_bgp();
  const RouteTableLimits& limits = fast_path_->routes().limits();
  selection_.set_capacity(limits.fib.max_routes4, limits.fib.max_routes6);
  selection_.set_mesh(plan.mesh_prefixes);
  std::vector<Route> fib = selection_.set_config(std::move(*routes));
  if (Status ok = fast_path_->routes().apply(std::move(fib), std::move(infos), plan.local_policy);
      !ok) {
    return ok;
  }
  applied_ = plan;
  mirror_to_kernel(plan, std::move(mirrored));
  if (mesh_kernel_) {
    mesh_kernel_->want(std::move(over_mesh_device), plan.mesh_mtu);
  }
  return Ok{};
}

void FastPathControl::start_offload(const std::vector<PlannedPort>& ports) {
  std::vector<OffloadPort> offload_ports;
  for (size_t p = 0; p < ports.size(); ++p) {
    offload_ports.push_back({.id = static_cast<PortId>(p),
                             .name = ports[p].name,
                             .ifindex = if_nametoindex(ports[p].device.c_str()),
                             .maps = maps_for_(ports[p].device)});
  }
  // One netlink socket for the offloader's lifetime; without the kernel's "netdev" family no
  // port can be vouched for, and each says why.
  auto features = std::make_shared<Expected<XdpFeatures>>(XdpFeatures::open());
  offloader_ =
      std::make_unique<FlowOffloader>(*fast_path_->offload_channel(), std::move(offload_ports),
                                      [features](uint32_t ifindex) -> Expected<uint64_t> {
                                        if (!*features) {
                                          return fail(features->error());
                                        }
                                        return (*features)->of(ifindex);
                                      });
  // A change of routes or ports retires every offloaded flow; a next hop's new MAC only the
  // flows to it.
  fast_path_->routes().on_change([this] {
    if (offloader_) {
      offloader_->invalidate();
    }
  });
  fast_path_->neighbours().on_change(
      [this](const NeighbourKey& key, const rte_ether_addr& before, const rte_ether_addr* after) {
        if (!offloader_) {
          return;
        }
        Mac old_mac, new_mac;
        std::memcpy(old_mac.data(), before.addr_bytes, 6);
        if (after != nullptr) {
          std::memcpy(new_mac.data(), after->addr_bytes, 6);
        }
        offloader_->neighbour_changed(key.port, key.ip(), old_mac,
                                      after ? std::optional<Mac>(new_mac) : std::nullopt);
      });
}

}  // namespace vigil::dp

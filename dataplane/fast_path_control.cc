#include "dataplane/fast_path_control.h"

#include <net/if.h>
#include <rte_ether.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "dataplane/kernel/xdp_features.h"
#include "dataplane/offload/flow_offloader.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/fast_path.h"

namespace vigil::dp {
namespace {

// One 2 KiB UMEM chunk per packet, of which the kernel keeps XDP_PACKET_HEADROOM (256): 1,792
// bytes of frame, less an Ethernet header and two VLAN tags.
constexpr uint32_t kAfXdpMaxMtu = 2048 - 256 - 14 - 8;

std::string mac_text(const rte_ether_addr& m) {
  char buf[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(buf, sizeof(buf), &m);
  return buf;
}

const char* action_name(RouteAction a) {
  switch (a) {
    case RouteAction::kForward:
      return "forward";
    case RouteAction::kLocal:
      return "local";
    case RouteAction::kBlackhole:
      return "blackhole";
    case RouteAction::kNoRoute:
      return "none";
  }
  return "none";
}

std::vector<std::pair<std::string, std::string>> devices(
    const std::vector<const config::InterfaceConfig*>& ports) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto* i : ports) {
    out.emplace_back(i->name, i->device);
  }
  return out;
}

}  // namespace

FastPathControl::FastPathControl(XsksMapFor xsks_map_for, ClassifierMapsFor maps_for)
    : xsks_map_for_(std::move(xsks_map_for)), maps_for_(std::move(maps_for)) {}

FastPathControl::~FastPathControl() {
  offloader_.reset();  // stops offloading while the classifiers are still there
  fast_path_.reset();  // stops the workers before EAL goes
  eal_.reset();
}

std::vector<const config::InterfaceConfig*> FastPathControl::port_interfaces(
    const config::Config& c) {
  std::vector<const config::InterfaceConfig*> out;
  for (const auto& i : c.interfaces) {
    if (i.enabled) {
      out.push_back(&i);
    }
  }
  return out;
}

PortMap FastPathControl::port_map(const config::Config& c) {
  PortMap map;
  for (const auto* i : port_interfaces(c)) {
    map.emplace(i->name, static_cast<PortId>(map.size()));
  }
  return map;
}

Status FastPathControl::check(const config::Config& c) const {
  const config::DataplaneConfig& d = c.dataplane;
  if (!d.forwarding) {
    if (running()) {
      return fail("dataplane.forwarding: turning forwarding off needs a restart of vigil-dp");
    }
    return Ok{};
  }
  const auto ports = port_interfaces(c);
  if (d.mode == config::DataplaneMode::kAfXdp) {
    for (const auto* i : ports) {
      if (!i->xdp) {
        return fail("interfaces." + i->name +
                    ": forwarding over AF_XDP needs the classifier on every port (xdp: true), "
                    "it decides what reaches the fast path");
      }
      if (i->mtu > kAfXdpMaxMtu) {
        return fail("interfaces." + i->name +
                    ".mtu: AF_XDP ports carry frames of up to 1,792 "
                    "bytes, an MTU of at most " +
                    std::to_string(kAfXdpMaxMtu));
      }
    }
  }
  if (d.mode == config::DataplaneMode::kDpdk) {
    for (const auto* i : ports) {
      if (i->name.size() > 15) {
        return fail("interfaces." + i->name +
                    ": in dpdk mode the name is also the kernel interface (TAP) of the port's "
                    "exception path, at most 15 characters");
      }
    }
  }
  const unsigned cpus = std::thread::hardware_concurrency();
  for (uint32_t l : d.lcores) {
    if (l >= cpus) {
      return fail("dataplane.lcores: this host has CPUs 0-" + std::to_string(cpus - 1) + ", not " +
                  std::to_string(l));
    }
  }
  if (d.control_lcore >= cpus) {
    return fail("dataplane.control_lcore: this host has CPUs 0-" + std::to_string(cpus - 1));
  }
  if (ports.size() > kMaxPorts) {
    return fail("interfaces: the fast path takes at most " + std::to_string(kMaxPorts) +
                " ports, " + std::to_string(ports.size()) + " are enabled");
  }
  if (running() && (d != started_with_ || devices(ports) != started_ports_)) {
    return fail(
        "the dataplane section or the set of port devices changed: restart vigil-dp to apply "
        "it (routes, addresses and neighbours apply without a restart)");
  }
  auto routes = build_routes(c, port_map(c));
  if (!routes) {
    return fail(routes.error());
  }
  if (running()) {
    return fast_path_->routes().check(*routes, ports.size());
  }
  return Ok{};
}

Status FastPathControl::start(const config::Config& c) {
  Status started = try_start(c);
  if (!started) {
    // Nothing half-running: no workers, no sockets in the classifier's map. DPDK's EAL cannot
    // start twice in one process, so a failed start needs a restart of vigil-dp to retry.
    offloader_.reset();
    fast_path_.reset();
    kernel_.reset();
    addresses_.reset();
    port_by_ifindex_.clear();
    if (eal_) {
      return fail(started.error() + " (fix it and restart vigil-dp: DPDK starts once)");
    }
  }
  return started;
}

Status FastPathControl::try_start(const config::Config& c) {
  const config::DataplaneConfig& d = c.dataplane;
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
  fc.idle.sleep = d.rx_mode == config::RxMode::kAdaptive;
  fc.tx_hold_us = d.tx_hold_us;
  // The classifier forwards offloaded flows, so only where it feeds the ports (af_xdp).
  fc.flow_offload = d.flow_offload && d.mode == config::DataplaneMode::kAfXdp;
  fc.route_limits.fib.max_routes4 = d.max_routes_ipv4;
  fc.route_limits.fib.max_routes6 = d.max_routes_ipv6;
  const auto ports = port_interfaces(c);
  for (const auto* i : ports) {
    if (d.mode == config::DataplaneMode::kDpdk) {
      fc.ports.push_back(EthdevPortConfig{.name = i->name, .devargs = i->device});
      // The exception path: a TAP named like the interface is the kernel's view of it.
      fc.kernel_interfaces.push_back(i->name);
      continue;
    }
    const int map_fd = xsks_map_for_(i->device);
    if (map_fd < 0) {
      return fail("port " + i->name + ": the classifier is not running on " + i->device);
    }
    fc.ports.push_back(
        AfXdpPortConfig{.name = i->name, .interface = i->device, .xsks_map_fd = map_fd});
    port_by_ifindex_[static_cast<int>(if_nametoindex(i->device.c_str()))] =
        static_cast<PortId>(fc.ports.size() - 1);
  }
  auto kernel = KernelNeighbours::open();
  if (!kernel) {
    return fail(kernel.error());
  }
  kernel_ = std::move(*kernel);
  auto fp = FastPath::create(fc);
  if (!fp) {
    return fail(fp.error());
  }
  fast_path_ = std::move(*fp);
  if (d.mode == config::DataplaneMode::kDpdk) {
    auto addresses = InterfaceAddresses::open();
    if (!addresses) {
      return fail(addresses.error());
    }
    addresses_ = std::move(*addresses);
    for (size_t p = 0; p < ports.size(); ++p) {
      port_by_ifindex_[static_cast<int>(if_nametoindex(ports[p]->name.c_str()))] =
          static_cast<PortId>(p);
    }
    if (Status ok = apply_kernel_interfaces(c); !ok) {
      return ok;
    }
  }
  if (fast_path_->offload_channel() != nullptr) {
    start_offload(ports);
  }
  started_with_ = d;
  started_ports_ = devices(ports);
  const std::vector<bool> up = fast_path_->links_up();
  for (size_t p = 0; p < up.size(); ++p) {
    if (!up[p]) {
      down_.insert(static_cast<PortId>(p));
    }
  }
  if (Status ok = apply_routes(c); !ok) {
    return ok;
  }
  apply_neighbours(c);
  if (Status ok = fast_path_->start(); !ok) {
    return ok;
  }
  log::info("fast path forwarding", {{"ports", static_cast<int64_t>(ports.size())},
                                     {"lcores", static_cast<int64_t>(d.lcores.size())},
                                     {"hugepages", eal_->hugepages()}});
  return Ok{};
}

Status FastPathControl::apply(const config::Config& c) {
  if (!c.dataplane.forwarding) {
    return Ok{};
  }
  if (!running()) {
    return start(c);
  }
  if (addresses_) {
    if (Status ok = apply_kernel_interfaces(c); !ok) {
      return ok;
    }
  }
  if (Status ok = apply_routes(c); !ok) {
    return ok;
  }
  apply_neighbours(c);
  return Ok{};
}

Status FastPathControl::apply_kernel_interfaces(const config::Config& c) {
  for (const auto* i : port_interfaces(c)) {
    const int ifindex = static_cast<int>(if_nametoindex(i->name.c_str()));
    if (ifindex == 0) {
      return fail("the exception path's interface " + i->name + " is gone");
    }
    if (Status ok = addresses_->set_up(ifindex, i->mtu); !ok) {
      return fail(i->name + ": " + ok.error());
    }
    if (Status ok = addresses_->sync(ifindex, i->addresses); !ok) {
      return fail(i->name + ": " + ok.error());
    }
  }
  return Ok{};
}

Status FastPathControl::apply_routes(const config::Config& c) {
  auto routes = build_routes(c, port_map(c), down_);
  if (!routes) {
    return fail(routes.error());
  }
  std::vector<PortInfo> infos;
  const auto& ports = fast_path_->ports();
  for (const auto* i : port_interfaces(c)) {
    PortInfo info{.mac = ports[infos.size()]->mac(), .mtu = static_cast<uint16_t>(i->mtu)};
    for (const auto& a : i->addresses) {
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
  if (Status ok = fast_path_->routes().apply(std::move(*routes), std::move(infos)); !ok) {
    return ok;
  }
  applied_ = c;
  return Ok{};
}

void FastPathControl::start_offload(const std::vector<const config::InterfaceConfig*>& ports) {
  std::vector<OffloadPort> offload_ports;
  for (size_t p = 0; p < ports.size(); ++p) {
    offload_ports.push_back({.id = static_cast<PortId>(p),
                             .name = ports[p]->name,
                             .ifindex = if_nametoindex(ports[p]->device.c_str()),
                             .maps = maps_for_(ports[p]->device)});
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
  // Whatever changes what a flow was forwarded by retires every offloaded flow.
  auto retire = [this] {
    if (offloader_) {
      offloader_->invalidate();
    }
  };
  fast_path_->routes().on_change(retire);
  fast_path_->neighbours().on_change(retire);
}

void FastPathControl::tick() {
  poll_links();
  poll_neighbours();
  if (offloader_) {
    offloader_->tick();
  }
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
  if (Status ok = apply_routes(*applied_); !ok) {
    // The FIB still has the routes of `before`: say so, and try again at the next tick.
    down_ = std::move(before);
    log::error("routes not rebuilt after a link change", {{"error", ok.error()}});
  }
}

void FastPathControl::apply_neighbours(const config::Config& c) {
  const PortMap ports = port_map(c);
  std::vector<std::pair<PortId, net::IpAddress>> wanted;
  for (const auto& i : c.interfaces) {
    auto port = ports.find(i.name);
    if (port == ports.end()) {
      continue;
    }
    for (const auto& n : i.neighbours) {
      rte_ether_addr mac;
      std::memcpy(mac.addr_bytes, n.mac.data(), 6);
      if (Status ok =
              fast_path_->neighbours().set(NeighbourKey::from(port->second, n.address), mac);
          !ok) {
        log::error("static neighbour not installed", {{"error", ok.error()}});
        continue;
      }
      wanted.emplace_back(port->second, n.address);
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
    rte_ether_addr m;
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

nlohmann::json FastPathControl::show() const {
  nlohmann::json out = {{"forwarding", running()}};
  if (!running()) {
    return out;
  }
  const LcoreCounters c = fast_path_->counters();
  nlohmann::json ports = nlohmann::json::array();
  for (size_t p = 0; p < fast_path_->ports().size(); ++p) {
    const auto& port = fast_path_->ports()[p];
    const PortStats dev = port->stats();
    ports.push_back({{"name", port->name()},
                     {"mac", mac_text(port->mac())},
                     {"link", down_.contains(static_cast<PortId>(p)) ? "down" : "up"},
                     {"rx_packets", c.ports[p].rx_packets},
                     {"rx_bytes", c.ports[p].rx_bytes},
                     {"tx_packets", c.ports[p].tx_packets},
                     {"tx_bytes", c.ports[p].tx_bytes},
                     {"device_rx_missed", dev.rx_missed},
                     {"device_tx_errors", dev.tx_errors}});
  }
  nlohmann::json drops = nlohmann::json::object();
  for (size_t r = 0; r < c.drops.size(); ++r) {
    drops[std::string(kDropReasonNames[r])] = c.drops[r];
  }
  nlohmann::json routes = nlohmann::json::array();
  const RouteTable& table = fast_path_->routes();
  for (const auto& [prefix, id] : table.routes()) {
    const NextHopGroup& g = table.group(id);
    nlohmann::json hops = nlohmann::json::array();
    for (const auto& m : g.members) {
      hops.push_back({{"port", fast_path_->ports()[m.port]->name()},
                      {"via", m.gateway ? m.gateway->to_string() : "connected"},
                      {"weight", m.weight}});
    }
    routes.push_back(
        {{"prefix", prefix.to_string()}, {"action", action_name(g.action)}, {"next_hops", hops}});
  }
  nlohmann::json neighbours = nlohmann::json::array();
  for (const auto& [key, mac] : fast_path_->neighbours().entries()) {
    neighbours.push_back({{"port", fast_path_->ports()[key.port]->name()},
                          {"address", key.ip().to_string()},
                          {"mac", mac_text(mac)}});
  }
  out["ports"] = ports;
  out["drops"] = drops;
  out["to_kernel"] = c.to_kernel;
  out["icmp_errors_sent"] = c.icmp_errors_sent;
  out["rx_mode"] = started_with_.rx_mode == config::RxMode::kAdaptive ? "adaptive" : "poll";
  out["idle_sleeps"] = c.idle_sleeps;
  out["tx_hold_us"] = started_with_.tx_hold_us;
  out["routes"] = routes;
  out["neighbours"] = neighbours;
  const AdjacencyTable& adjacencies = fast_path_->neighbours().adjacencies();
  out["adjacencies"] = {{"in_use", adjacencies.in_use()}, {"capacity", adjacencies.capacity()}};
  out["flow_offload"] = offloader_ ? offloader_->show() : nlohmann::json{{"enabled", false}};
  return out;
}

void FastPathControl::update_metrics(MetricsRegistry& metrics) {
  if (!running()) {
    return;
  }
  auto& packets = metrics.counter("vigil_dp_packets_total",
                                  "Packets the fast path received or sent, by port and direction");
  auto& bytes = metrics.counter("vigil_dp_bytes_total",
                                "Bytes the fast path received or sent, by port and direction");
  auto& drops = metrics.counter("vigil_dp_drops_total", "Packets the fast path dropped, by reason");
  auto& link = metrics.gauge("vigil_dp_link_up",
                             "1 when the port's link is up (its routes in the FIB), 0 when down");
  auto& missed = metrics.counter(
      "vigil_dp_device_rx_missed_total",
      "Packets a port's device dropped before the fast path saw them (no room to receive)");
  const LcoreCounters c = fast_path_->counters();
  for (size_t p = 0; p < fast_path_->ports().size(); ++p) {
    const std::string& name = fast_path_->ports()[p]->name();
    exported_.set(missed, {{"port", name}}, fast_path_->ports()[p]->stats().rx_missed);
    exported_.set(packets, {{"port", name}, {"direction", "rx"}}, c.ports[p].rx_packets);
    exported_.set(packets, {{"port", name}, {"direction", "tx"}}, c.ports[p].tx_packets);
    exported_.set(bytes, {{"port", name}, {"direction", "rx"}}, c.ports[p].rx_bytes);
    exported_.set(bytes, {{"port", name}, {"direction", "tx"}}, c.ports[p].tx_bytes);
    link.Add({{"port", name}}).Set(down_.contains(static_cast<PortId>(p)) ? 0 : 1);
  }
  for (size_t r = 0; r < c.drops.size(); ++r) {
    exported_.set(drops, {{"reason", std::string(kDropReasonNames[r])}}, c.drops[r]);
  }
  if (offloader_) {
    update_offload_metrics(metrics);
  }
}

void FastPathControl::update_offload_metrics(MetricsRegistry& metrics) {
  auto& packets = metrics.counter(
      "vigil_dp_offloaded_packets_total",
      "Packets of offloaded flows the XDP classifier forwarded itself, by port and direction");
  auto& bytes = metrics.counter("vigil_dp_offloaded_bytes_total",
                                "Bytes of offloaded flows the XDP classifier forwarded itself");
  auto& offers = metrics.counter("vigil_dp_flow_offers_total",
                                 "Flows the lcores offered for offload to XDP, by outcome");
  for (const auto& p : offloader_->port_counts()) {
    for (const auto& [direction, count] : {std::pair{"rx", p.rx}, std::pair{"tx", p.tx}}) {
      exported_.set(packets, {{"port", p.name}, {"direction", direction}}, count.packets);
      exported_.set(bytes, {{"port", p.name}, {"direction", direction}}, count.bytes);
    }
  }
  const FlowOffloader::Stats& s = offloader_->stats();
  for (const auto& [outcome, n] :
       {std::pair{"installed", s.installed}, std::pair{"stale", s.stale},
        std::pair{"declined", s.declined}, std::pair{"failed", s.failed}}) {
    exported_.set(offers, {{"outcome", outcome}}, n);
  }
}

}  // namespace vigil::dp

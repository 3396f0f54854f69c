#include "dataplane/fast_path_plan.h"

#include <algorithm>
#include <set>

#include "dataplane/interface_admission.h"
#include "dataplane/local_services.h"
#include "dataplane/pipeline/lcore_counters.h"

namespace vigil::dp {

std::vector<std::pair<std::string, std::string>> FastPathPlan::devices() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(ports.size());
  for (const auto& p : ports) {
    out.emplace_back(p.name, p.device);
  }
  return out;
}

RoutingInput routing_input_from(const config::Config& c, const PortMap& ports) {
  RoutingInput in;
  for (const auto& iface : c.interfaces) {
    if (auto port = ports.find(iface.name); port != ports.end()) {
      in.ports.push_back({.port = port->second, .addresses = iface.addresses});
    }
  }
  for (const auto& r : c.routing.static_routes) {
    StaticRouteInput route{.prefix = r.prefix, .distance = r.distance, .blackhole = r.blackhole};
    for (const auto& hop : r.next_hops) {
      StaticNextHop h{
          .via = hop.via, .interface_named = !hop.interface.empty(), .weight = hop.weight};
      if (h.interface_named) {
        if (auto port = ports.find(hop.interface); port != ports.end()) {
          h.port = port->second;
        }
      }
      route.next_hops.push_back(h);
    }
    in.static_routes.push_back(std::move(route));
  }
  return in;
}

LocalPolicy local_policy_of(const config::Config& c) {
  LocalPolicy policy{.drop_by_default = c.filter.default_action == config::Verdict::kDrop,
                     .drop_later_fragments = c.filter.later_fragments == config::Verdict::kDrop};
  for (const auto& r : c.filter.acl) {
    policy.acl.push_back({.source = r.source,
                          .destination = r.destination,
                          .deny = r.action == config::Verdict::kDrop});
  }
  for (const ServicePort& p : service_ports_of(c)) {
    (p.protocol == 6 ? policy.tcp_ports : policy.udp_ports).set(p.port);
  }
  return policy;
}

MeshSources mesh_sources_of(const config::Config& c) {
  const auto link_local = [](const net::IpAddress& a) {
    return a.family == 4 ? a.bytes[0] == 169 && a.bytes[1] == 254
                         : a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
  };
  const auto in_networks = [&c](const net::IpAddress& a) {
    return c.mesh.networks.empty() ||
           std::any_of(c.mesh.networks.begin(), c.mesh.networks.end(),
                       [&a](const net::Prefix& n) { return n.contains(a); });
  };
  MeshSources sources;
  for (const auto& i : c.interfaces) {
    if (!i.enabled || i.role != config::InterfaceRole::kLan) {
      continue;
    }
    for (const auto& a : i.addresses) {
      auto& source = a.address.family == 4 ? sources.v4 : sources.v6;
      if (!source && !link_local(a.address) && in_networks(a.address)) {
        source = a.address;
      }
    }
  }
  return sources;
}

FastPathPlan plan_from(const config::Config& c) {
  const config::DataplaneConfig& d = c.dataplane;
  FastPathPlan plan{
      .forwarding = d.forwarding,
      .settings = {.mode =
                       d.mode == config::DataplaneMode::kDpdk ? PortMode::kDpdk : PortMode::kAfXdp,
                   .adaptive_rx = d.rx_mode == config::RxMode::kAdaptive,
                   .control_lcore = d.control_lcore,
                   .lcores = d.lcores,
                   .memory_mb = d.memory_mb,
                   .mbufs = d.mbufs,
                   .max_routes4 = d.max_routes_ipv4,
                   .max_routes6 = d.max_routes_ipv6,
                   .tx_hold_us = d.tx_hold_us,
                   .flow_offload = d.flow_offload},
      .kernel_fallback = d.kernel_fallback && d.mode == config::DataplaneMode::kAfXdp};
  for (const auto& i : c.interfaces) {
    if (!i.enabled) {
      continue;
    }
    PlannedPort port{
        .name = i.name, .device = i.device, .xdp = i.xdp, .mtu = i.mtu, .addresses = i.addresses};
    port.allow_martians = allowed_martians(i);
    port.vlans = vlan_ids(i);
    for (const auto& n : i.neighbours) {
      port.neighbours.push_back({.address = n.address, .mac = n.mac});
    }
    plan.port_map.emplace(i.name, static_cast<PortId>(plan.ports.size()));
    plan.ports.push_back(std::move(port));
  }
  plan.routing = routing_input_from(c, plan.port_map);
  uint32_t smallest_mtu = 1500;
  for (const auto& p : plan.ports) {
    smallest_mtu = std::min(smallest_mtu, p.mtu);
  }
  plan.mesh_mtu = static_cast<uint16_t>(smallest_mtu > 80 + 68 ? smallest_mtu - 80 : 68);
  plan.mesh = c.mesh.enabled;
  plan.local_policy = std::make_shared<const LocalPolicy>(local_policy_of(c));
  plan.mesh_peers = c.mesh.peers.size();
  plan.mesh_sources = mesh_sources_of(c);
  plan.bgp = c.routing.bgp.has_value();
  for (const auto& peer : c.mesh.peers) {
    for (const auto& prefix : peer.allowed_ips) {
      plan.mesh_prefixes.push_back(prefix);
      plan.mesh_prefix_peers.push_back(peer.name);
    }
  }
  return plan;
}

void add_mesh_routes(std::vector<Route>& routes, const std::vector<net::Prefix>& prefixes) {
  std::set<net::Prefix> taken;
  for (const Route& r : routes) {
    taken.insert(r.prefix);
  }
  for (const net::Prefix& p : prefixes) {
    if (taken.insert(p).second) {
      routes.push_back({.prefix = p,
                        .target = make_forward_group({{.port = kTunnelPort}}),
                        .source = RouteSource::kMesh,
                        .distance = kMeshDistance});
    }
  }
  std::sort(routes.begin(), routes.end());
}

Expected<std::vector<Route>> check_plan(const FastPathPlan& plan, unsigned host_cpus) {
  if (!plan.forwarding) {
    return std::vector<Route>{};
  }
  const FastPathSettings& s = plan.settings;
  for (const auto& p : plan.ports) {
    if (s.mode == PortMode::kAfXdp && !p.xdp) {
      return fail("interfaces." + p.name +
                  ": forwarding over AF_XDP needs the classifier on every port (xdp: true), "
                  "it decides what reaches the fast path");
    }
    if (s.mode == PortMode::kAfXdp && p.mtu > kAfXdpMaxMtu) {
      return fail("interfaces." + p.name +
                  ".mtu: AF_XDP ports carry frames of up to 1,792 bytes, an MTU of at most " +
                  std::to_string(kAfXdpMaxMtu));
    }
    if (s.mode == PortMode::kDpdk && p.name.size() > 15) {
      return fail("interfaces." + p.name +
                  ": in dpdk mode the name is also the kernel interface (TAP) of the port's "
                  "exception path, at most 15 characters");
    }
  }
  for (uint32_t l : s.lcores) {
    if (l >= host_cpus) {
      return fail("dataplane.lcores: this host has CPUs 0-" + std::to_string(host_cpus - 1) +
                  ", not " + std::to_string(l));
    }
  }
  if (s.control_lcore >= host_cpus) {
    return fail("dataplane.control_lcore: this host has CPUs 0-" + std::to_string(host_cpus - 1));
  }
  if (plan.ports.size() > kMaxPorts) {
    return fail("interfaces: the fast path takes at most " + std::to_string(kMaxPorts) +
                " ports, " + std::to_string(plan.ports.size()) + " are enabled");
  }
  auto routes = build_routes(plan.routing);
  if (!routes) {
    return routes;
  }
  // A peer's network that is also a connected or static route would go that way, in the
  // clear: refused, never quietly preferred.
  std::set<net::Prefix> routed;
  for (const Route& r : *routes) {
    routed.insert(r.prefix);
  }
  for (size_t k = 0; k < plan.mesh_prefixes.size(); ++k) {
    if (routed.contains(plan.mesh_prefixes[k])) {
      return fail("mesh.peers." + plan.mesh_prefix_peers[k] +
                  ".allowed_ips: " + plan.mesh_prefixes[k].to_string() +
                  " is also a route of the config or a port's subnet, and traffic for it "
                  "would not go through the tunnel: remove one of them");
    }
  }
  add_mesh_routes(*routes, plan.mesh_prefixes);
  // Also checked by the running table; here so that a fast path about to start (at first, or
  // restarting on new settings) refuses at prepare what it could not hold.
  const auto v4 = static_cast<size_t>(std::count_if(
      routes->begin(), routes->end(), [](const Route& r) { return r.prefix.address.family == 4; }));
  const size_t v6 = routes->size() - v4;
  if (v4 > s.max_routes4 || v6 > s.max_routes6) {
    return fail("routing: " + std::to_string(v4) + " IPv4 and " + std::to_string(v6) +
                " IPv6 routes; dataplane.max_routes_ipv4 and max_routes_ipv6 hold " +
                std::to_string(s.max_routes4) + " and " + std::to_string(s.max_routes6));
  }
  return routes;
}

}  // namespace vigil::dp

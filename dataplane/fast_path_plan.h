// The fast path as a config asks for it, in vigil-dp's own terms: which ports (in PortId
// order), how the EAL and lcores start, the routing input and static neighbours. plan_from()
// is the one adapter from the schema; FastPathControl below it sees only the plan, and the
// plan's checks run without DPDK, so they are unit-tested (tests/unit/dataplane/).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "config/config.h"
#include "dataplane/forwarding/local_policy.h"
#include "dataplane/forwarding/route_builder.h"
#include "dataplane/forwarding/routing_input.h"
#include "dataplane/kernel/mesh_kernel_routes.h"

namespace vigil::dp {

enum class PortMode { kAfXdp, kDpdk };

// What starting the fast path takes; a running fast path cannot change it (DPDK's EAL starts
// once per process), so a change needs a restart of vigil-dp.
struct FastPathSettings {
  PortMode mode = PortMode::kAfXdp;
  bool adaptive_rx = false;  // lcores sleep while their queues stay empty
  uint32_t control_lcore = 0;
  std::vector<uint32_t> lcores = {1};
  uint32_t memory_mb = 1024;
  uint32_t mbufs = 16383;
  uint32_t max_routes4 = 262144;
  uint32_t max_routes6 = 65536;
  uint32_t tx_hold_us = 0;
  bool flow_offload = true;  // only where the classifier feeds the ports (af_xdp)
  auto operator<=>(const FastPathSettings&) const = default;
};

struct PlannedNeighbour {
  net::IpAddress address;
  std::array<uint8_t, 6> mac{};
  auto operator<=>(const PlannedNeighbour&) const = default;
};

struct PlannedPort {
  std::string name;    // the interface's name in the config
  std::string device;  // kernel interface (af_xdp) or DPDK devargs (dpdk)
  bool xdp = false;    // the classifier runs there
  uint32_t mtu = 1500;
  std::vector<net::Prefix> addresses;
  std::vector<PlannedNeighbour> neighbours;  // static ARP/ND entries
  uint32_t allow_martians = 0;               // VIGIL_ALLOW_* (vigil/martian.h)
  std::vector<uint16_t> vlans;               // configured VLAN ids, sorted
};

struct FastPathPlan {
  bool forwarding = false;
  FastPathSettings settings;
  // af_xdp only: the kernel gets the FIB's routes and forwards while vigil-dp is away
  // (kernel/fib_mirror.h). Changes without a restart.
  bool kernel_fallback = false;
  std::vector<PlannedPort> ports;  // PortId order: the enabled interfaces
  PortMap port_map;                // by name
  RoutingInput routing;
  bool mesh = false;  // the config has a mesh section (peers or not yet): the device is made
  // What the box's kernel takes of what the mesh brings for it: `filter`'s rules for traffic
  // to the box, which the classifier cannot apply to it (forwarding/local_policy.h).
  std::shared_ptr<const LocalPolicy> local_policy;
  size_t mesh_peers = 0;
  // The mesh's allowed IPs (peers' networks), routed to the tunnel, and whose each is.
  std::vector<net::Prefix> mesh_prefixes;
  std::vector<std::string> mesh_prefix_peers;
  // The tunnel's MTU: the smallest port MTU less 80 bytes (outer IPv6, UDP, WireGuard).
  uint16_t mesh_mtu = 1420;
  // What the box's own traffic to other sites leaves from (mesh_sources_of()).
  MeshSources mesh_sources;
  // routing.bgp is configured: zebra's routes come over FPM (the listener is up) and go into
  // the FIB with distance 20 (fast_path_bgp.cc).
  bool bgp = false;

  // Whether the kernel gets a copy of the FIB: only a fast path that forwards has one; a box
  // that runs the classifier alone leaves the kernel as the operator set it.
  bool mirrors_to_kernel() const { return forwarding && kernel_fallback; }

  // (name, device) per port: a change needs a restart, as a change of settings does.
  std::vector<std::pair<std::string, std::string>> devices() const;
};

// The routing input of `config` over the forwarding ports in `ports`.
RoutingInput routing_input_from(const config::Config& config, const PortMap& ports);

// Routes of source mesh: each prefix to the tunnel, unless a route to the same prefix is there
// already (connected and local routes, and a static route given on purpose, win).
void add_mesh_routes(std::vector<Route>& routes, const std::vector<net::Prefix>& prefixes);

// The addresses the box's own traffic to other sites leaves from, one per family: the first
// address of a lan interface, in config order, that is in the site's mesh networks (what the
// other sites accept from it: mesh.networks, or the lan interfaces' networks when it is
// empty), link-local ones left out.
MeshSources mesh_sources_of(const config::Config& config);

// filter's rules for traffic to the box, for what the mesh brings (local_policy.h).
LocalPolicy local_policy_of(const config::Config& config);

// The adapter: the plan of `config`.
FastPathPlan plan_from(const config::Config& config);

// What the fast path would refuse of this plan on a host with `host_cpus` CPUs, before it
// runs: an AF_XDP port without the classifier or with too large an MTU, a TAP name too long,
// lcores the host does not have, too many ports, static routes that do not resolve. Returns
// the routes it built (none when not forwarding).
Expected<std::vector<Route>> check_plan(const FastPathPlan& plan, unsigned host_cpus);

// AF_XDP ports carry frames of up to one 2 KiB UMEM chunk less the kernel's headroom (256),
// an Ethernet header and two VLAN tags: an IP MTU of at most 1,770.
inline constexpr uint32_t kAfXdpMaxMtu = 2048 - 256 - 14 - 8;

}  // namespace vigil::dp

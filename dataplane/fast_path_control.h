// vigil-dp's side of the DPDK fast path: turns the committed config into a running FastPath
// (EAL, ports, workers) and keeps its routes, port details and static neighbours in step with
// each commit. Control thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "bgp/fpm/fpm_server.h"
#include "bgp/fpm/fpm_session.h"
#include "common/api/dataplane_status.h"
#include "common/api/mesh_status.h"
#include "common/expected.h"
#include "common/metrics.h"
#include "config/config.h"
#include "dataplane/config_applier.h"
#include "dataplane/fast_path_plan.h"
#include "dataplane/forwarding/route_selection.h"
#include "dataplane/kernel/fib_mirror.h"
#include "dataplane/kernel/interface_addresses.h"
#include "dataplane/kernel/kernel_forwarding.h"
#include "dataplane/kernel/kernel_neighbours.h"
#include "dataplane/kernel/mesh_kernel_device.h"
#include "ebpf/loader/map_access.h"

namespace vigil::dp {

class Eal;
class FastPath;
class FlowOffloader;
class MeshControl;

class FastPathControl final : public ConfigTarget {
 public:
  // The classifier's XSKMAP fd on a kernel device (-1 if none): AF_XDP ports bind there.
  using XsksMapFor = std::function<int(const std::string& device)>;
  // The classifier's maps on a kernel device (nullptr if none): flows are offloaded there.
  using ClassifierMapsFor = std::function<ebpf::MapAccess*(const std::string& device)>;
  FastPathControl(XsksMapFor xsks_map_for, ClassifierMapsFor maps_for);
  ~FastPathControl() override;

  // The loop the FPM listener runs on (vigil-dp's), from when it runs until it stops: the
  // listener starts at the next tick that finds BGP configured, and closes at stop_serving().
  void serve_on(EventLoop& loop) { loop_ = &loop; }
  void stop_serving();

  std::string name() const override { return "fast path"; }

  // What apply() would refuse, changing nothing: what check_plan() refuses, and once running,
  // routes that do not fit.
  Status check(const config::Config& config) const override;
  // Once running, a change of the dataplane section or of the ports' devices, or forwarding
  // turned off; or a start that failed earlier: DPDK's EAL starts once per process, so these
  // take a new vigil-dp (ConfigApplier restarts it on them).
  bool needs_restart(const config::Config& config) const override;
  // Starts the fast path on the first config that asks for forwarding, then applies routes and
  // neighbours of every later one. Both go through plan_from(), the one adapter.
  Status apply(const config::Config& config) override;

  bool running() const { return fast_path_ != nullptr; }
  api::DataplaneStatus show() const;
  api::TunnelsStatus show_tunnels() const;
  // mesh.prefer: {"peer", "link", "endpoint"?} or {"peer", "auto": true} (MeshControl::prefer).
  Status prefer_path(const nlohmann::json& params);
  // Control-thread tick (every few tens of ms): a port whose link went down has its routes
  // withdrawn (and given back when it comes up), next hops the lcores asked for are handed to
  // the kernel to resolve, and what the kernel resolved on the ports is installed.
  void tick();
  void update_metrics(MetricsRegistry& metrics);

 private:
  // fast_path_control.cc: starting, routes, offload.
  Status start(const config::Config& config, const FastPathPlan& plan);
  Status try_start(const config::Config& config, const FastPathPlan& plan);
  Status apply_routes(const FastPathPlan& plan);
  // af_xdp with dataplane.flow_offload: starts offloading flows to the ports' classifiers.
  void start_offload(const std::vector<PlannedPort>& ports);
  // fast_path_kernel_sync.cc: what the fast path and the kernel tell each other.
  // dpdk mode: the TAPs standing for the ports get the ports' MTU and addresses.
  Status apply_kernel_interfaces(const FastPathPlan& plan);
  void apply_neighbours(const FastPathPlan& plan);
  void poll_links();
  void poll_neighbours();
  // The kernel fallback: the kernel's routes made `wanted` (and its forwarding on for the
  // ports), or vigil-dp's routes swept from it when the plan has no fallback. A failure is
  // logged, shown and retried every second; the fast path's own routes are in place anyway.
  void mirror_to_kernel(const FastPathPlan& plan, std::vector<KernelRoute> wanted);
  void sync_kernel_mirror();
  // The mesh: its tunnels (none when `config` has no mesh section) made the running ones.
  Status apply_mesh(const config::Config& config, const FastPathPlan& plan);
  // fast_path_bgp.cc: zebra's routes over FPM. The listener up while the plan has BGP (and
  // the fast path runs), down with its routes withdrawn when it has not.
  void apply_bgp(const FastPathPlan& plan);
  // zebra's changes since the last call into the FIB (as updates, not a new table).
  void take_bgp_changes();
  // Every route zebra holds, through the selection: after a commit or a link change.
  void reselect_bgp();
  // What a route from zebra becomes in the FIB now (its BGP routes only, over ports up).
  std::optional<NextHopGroup> bgp_target(const fpm::ResolvedRoute& route) const;
  // The listener started once the loop is there (and again after a failure), zebra's
  // replays ended, its changes taken.
  void tick_bgp();
  void update_bgp_metrics(MetricsRegistry& metrics);
  // fast_path_status.cc: show() and metrics.
  void update_offload_metrics(MetricsRegistry& metrics);
  void update_mesh_metrics(MetricsRegistry& metrics);

  XsksMapFor xsks_map_for_;
  ClassifierMapsFor maps_for_;
  std::unique_ptr<Eal> eal_;
  std::unique_ptr<FastPath> fast_path_;
  // After fast_path_, whose offload channel it uses: goes first.
  std::unique_ptr<FlowOffloader> offloader_;
  // After fast_path_, whose channel, tables and pool it uses: goes first.
  std::unique_ptr<MeshControl> mesh_;
  // What the running fast path was started with: changes to these need a restart.
  FastPathSettings started_with_;
  std::vector<std::pair<std::string, std::string>> started_ports_;  // (name, device)
  // A start that failed in this process: what it was given and why. The same again is refused
  // (a restart would only fail the same way); anything else restarts vigil-dp to try it.
  FastPathSettings failed_with_;
  std::vector<std::pair<std::string, std::string>> failed_ports_;
  std::string failed_because_;
  std::optional<FastPathPlan> applied_;  // the routes' source, rebuilt when a link changes
  DownPorts down_;
  TotalsExporter exported_;
  std::vector<std::pair<PortId, net::IpAddress>> static_neighbours_;  // installed
  // The kernel's view of the ports: the interfaces themselves (af_xdp) or their TAPs (dpdk).
  std::optional<KernelNeighbours> kernel_;
  std::optional<InterfaceAddresses> addresses_;
  std::map<int, PortId> port_by_ifindex_;
  std::map<std::pair<PortId, net::IpAddress>, std::array<uint8_t, 6>> learned_;
  // The kernel fallback. The mirror holds a reference to the table: both on the heap.
  std::unique_ptr<KernelRouteTable> kernel_routes_;
  std::unique_ptr<FibMirror> mirror_;
  bool fallback_ = false;
  std::vector<std::string> fallback_devices_;  // the ports' kernel interfaces
  std::vector<KernelRoute> mirror_wanted_;
  std::string mirror_error_;  // the last sync's, empty when in step
  std::chrono::steady_clock::time_point mirror_retry_at_{};
  std::optional<KernelForwarding> kernel_forwarding_;  // set once turned on
  // The box's own traffic with other sites (kernel/mesh_kernel_path.h): there while the fast
  // path runs with a mesh section.
  std::unique_ptr<MeshKernelPath> mesh_kernel_;
  bool started_with_mesh_ = false;
  bool failed_with_mesh_ = false;
  // BGP: what zebra sends (the session outlives connections), its listener, and the choice
  // between the config's routes and zebra's that the FIB holds.
  EventLoop* loop_ = nullptr;
  std::unique_ptr<fpm::FpmSession> fpm_session_;
  std::unique_ptr<fpm::FpmServer> fpm_server_;
  RouteSelection selection_;
  bool bgp_wanted_ = false;  // the plan has BGP: the listener is up, or retried every tick
  std::chrono::steady_clock::time_point bgp_retry_at_{};
  uint64_t bgp_not_installed_ = 0;  // updates the FIB refused (full), counted
};

}  // namespace vigil::dp

// The fast path assembled: EAL memory pool, ports, route and neighbour tables, RCU, and one
// LcoreWorker per forwarding lcore with its own pipeline (parse → admit → route → neighbour →
// offload, the last only where the XDP classifier can forward offloaded flows; with the
// mesh's receive after parse and send after route, each worker owning some peers' tunnels).
// Queue i
// of every port is served by worker i. vigil-dp's control thread owns it and changes routes
// and neighbours through it while the workers run.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/neighbour_table.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/mesh/lcore_tunnels.h"
#include "dataplane/mesh/mesh_channel.h"
#include "dataplane/mesh/tunnel_table.h"
#include "dataplane/offload/offload_channel.h"
#include "dataplane/pipeline/neighbour_stage.h"
#include "dataplane/pipeline/route_stage.h"
#include "dataplane/ports/af_xdp_port.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/runtime/lcore_worker.h"
#include "dataplane/runtime/qsbr_readers.h"

struct rte_mempool;

namespace vigil::dp {

struct FastPathConfig {
  std::vector<unsigned> worker_lcores;  // EAL already started with them
  uint32_t mbufs = 16383;               // per pool; a power of two minus one suits the ring
  // PortId = index; each port's queue count is set to the worker count.
  std::vector<std::variant<EthdevPortConfig, AfXdpPortConfig>> ports;
  // The exception path, by PortId: the name of a TAP interface to create for that port (its
  // MAC), through which packets for the box reach the kernel and the kernel's own packets
  // (ARP, replies) leave by the port. Empty: none (AF_XDP ports have the kernel already).
  std::vector<std::string> kernel_interfaces;
  // The mesh's kernel device: a TAP of this name through which what a tunnel brings for the
  // box reaches the kernel, and the kernel's own packets for other sites enter the fast path
  // (routed, then sealed). Empty: none.
  std::string mesh_kernel_interface;
  RouteTableLimits route_limits;
  uint32_t neighbour_capacity = 16384;
  uint32_t hash_seed = 0x5eed;
  IcmpLimits icmp_limits;
  HoldLimits hold;
  uint32_t drain_us = 100;    // longest a packet waits in a TX buffer under load
  uint32_t tx_hold_us = 0;    // >0: short bursts wait (up to this) to leave together too
  IdlePolicy idle;            // spin (default) or sleep when the queues are empty
  bool flow_offload = false;  // lcores offer the flows they forward (OffloadChannel)
};

class FastPath {
 public:
  static Expected<std::unique_ptr<FastPath>> create(const FastPathConfig& config);
  ~FastPath();

  // Launches a worker on each forwarding lcore; stop() returns when all have left their loop.
  Status start();
  void stop();

  RouteTable& routes() { return *routes_; }
  NeighbourTable& neighbours() { return *neighbours_; }
  // The forwarding ports; the TAPs of the exception path follow them in ports_ but are not
  // listed here.
  std::span<const PortPtr> ports() const { return {ports_.data(), port_count_}; }
  // Whether each forwarding port's link is up, by PortId.
  std::vector<bool> links_up() const;
  // The TAP of each port, or nullptr.
  const Port* kernel_port(PortId port) const;
  // The mesh's kernel device (FastPathConfig::mesh_kernel_interface) and its PortId, or none.
  const Port* mesh_kernel_device() const {
    return mesh_kernel_port_ >= 0 ? ports_[static_cast<size_t>(mesh_kernel_port_)].get() : nullptr;
  }
  PortId mesh_kernel_port() const { return static_cast<PortId>(mesh_kernel_port_); }
  // Counters summed over the workers (each read may be a few packets behind).
  LcoreCounters counters() const;
  // Where lcores offer flows for offload to XDP; nullptr when flow_offload is off.
  OffloadChannel* offload_channel() { return offload_.get(); }
  // The mesh: every worker carries the tunnels of the peers it owns (dataplane/mesh/); the
  // control thread publishes their table and talks to each worker over its channel (by
  // worker: the peer in slot s is worker s mod workers').
  TunnelTables& tunnel_tables() { return *tunnel_tables_; }
  std::vector<MeshChannel*> mesh_channels();
  TunnelPeerStats* tunnel_stats() { return tunnel_stats_.get(); }
  rte_mempool* pool() { return pool_; }

 private:
  FastPath() = default;
  rte_mempool* pool_ = nullptr;
  std::vector<PortPtr> ports_;
  size_t port_count_ = 0;
  std::vector<int> kernel_port_;  // by PortId: index in ports_ of its TAP, or -1
  int mesh_kernel_port_ = -1;     // index in ports_ of the mesh's kernel device, or -1
  std::unique_ptr<QsbrReaders> readers_;
  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::unique_ptr<OffloadChannel> offload_;
  std::unique_ptr<TunnelTables> tunnel_tables_;
  std::vector<std::unique_ptr<MeshChannel>> mesh_channels_;  // by worker
  std::vector<std::unique_ptr<TunnelHandoff>> handoffs_;     // by worker
  std::unique_ptr<TunnelPeerStats[]> tunnel_stats_;
  std::vector<std::unique_ptr<LcoreTunnels>> tunnels_;  // by worker
  std::vector<std::unique_ptr<LcoreWorker>> workers_;
  bool running_ = false;
};

}  // namespace vigil::dp

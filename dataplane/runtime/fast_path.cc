#include "dataplane/runtime/fast_path.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/mesh/mesh_stages.h"
#include "dataplane/pipeline/admit_stage.h"
#include "dataplane/pipeline/offload_stage.h"
#include "dataplane/pipeline/parse_stage.h"

namespace vigil::dp {
namespace {

int run_worker(void* arg) {
  return static_cast<LcoreWorker*>(arg)->run();
}

}  // namespace

Expected<std::unique_ptr<FastPath>> FastPath::create(const FastPathConfig& c) {
  if (c.worker_lcores.empty()) {
    return fail("the fast path needs at least one forwarding lcore");
  }
  if (c.ports.size() >= kTunnelPort) {
    return fail("at most " + std::to_string(kTunnelPort) + " ports");
  }
  std::unique_ptr<FastPath> fp(new FastPath());
  fp->pool_ = rte_pktmbuf_pool_create("vigil_mbufs", c.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      SOCKET_ID_ANY);
  if (fp->pool_ == nullptr) {
    return fail("cannot allocate " + std::to_string(c.mbufs) +
                " mbufs: " + rte_strerror(rte_errno) + " (raise dataplane memory)");
  }
  const auto queues = static_cast<uint16_t>(c.worker_lcores.size());
  for (auto pc : c.ports) {
    auto port = std::visit(
        [&](auto& config) -> Expected<PortPtr> {
          config.queues = queues;
          if constexpr (std::is_same_v<std::decay_t<decltype(config)>, AfXdpPortConfig>) {
            return AfXdpPort::open(config, fp->pool_);
          } else {
            return EthdevPort::open(config, fp->pool_);
          }
        },
        pc);
    if (!port) {
      return fail(port.error());
    }
    fp->ports_.push_back(std::move(*port));
  }
  fp->port_count_ = fp->ports_.size();
  fp->kernel_port_.assign(fp->port_count_, -1);
  for (size_t p = 0; p < c.kernel_interfaces.size() && p < fp->port_count_; ++p) {
    if (c.kernel_interfaces[p].empty()) {
      continue;
    }
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    const rte_ether_addr port_mac = fp->ports_[p]->mac();
    rte_ether_format_addr(mac, sizeof(mac), &port_mac);
    // The kernel's side carries the port's MAC: its ARP replies and packets name the port.
    auto tap = EthdevPort::open({.name = c.kernel_interfaces[p] + " (kernel)",
                                 .devargs = "net_tap" + std::to_string(p) +
                                            ",iface=" + c.kernel_interfaces[p] + ",mac=" + mac,
                                 .queues = queues},
                                fp->pool_);
    if (!tap) {
      return fail("the exception path of " + c.kernel_interfaces[p] + ": " + tap.error());
    }
    fp->kernel_port_[p] = static_cast<int>(fp->ports_.size());
    fp->ports_.push_back(std::move(*tap));
  }
  // Locally administered and the same on every box: the device is a point-to-point hop inside
  // this one, its MAC seen by nobody else.
  const rte_ether_addr mesh_mac{{0x02, 0x76, 0x69, 0x67, 0x6d, 0x01}};
  if (!c.mesh_kernel_interface.empty()) {
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &mesh_mac);
    auto tap = EthdevPort::open(
        {.name = c.mesh_kernel_interface + " (kernel)",
         .devargs = "net_tap_mesh,iface=" + c.mesh_kernel_interface + ",mac=" + mac,
         .queues = queues},
        fp->pool_);
    if (!tap) {
      return fail("the mesh's kernel device " + c.mesh_kernel_interface + ": " + tap.error());
    }
    fp->mesh_kernel_port_ = static_cast<int>(fp->ports_.size());
    fp->ports_.push_back(std::move(*tap));
  }
  if (fp->ports_.size() >= kTunnelPort) {
    return fail("at most " + std::to_string(kTunnelPort) + " ports and exception TAPs");
  }
  auto readers = QsbrReaders::create(RTE_MAX_LCORE);
  if (!readers) {
    return fail(readers.error());
  }
  fp->readers_ = std::move(*readers);
  auto neighbours = NeighbourTable::create("vigil", c.neighbour_capacity, *fp->readers_);
  if (!neighbours) {
    return fail(neighbours.error());
  }
  fp->neighbours_ = std::move(*neighbours);
  auto routes =
      RouteTable::create("vigil_fib", c.route_limits, *fp->readers_, fp->neighbours_.get());
  if (!routes) {
    return fail(routes.error());
  }
  fp->routes_ = std::move(*routes);
  if (c.flow_offload) {
    auto channel = OffloadChannel::create("vigil", 4096);
    if (!channel) {
      return fail(channel.error());
    }
    fp->offload_ = std::move(*channel);
  }

  fp->tunnel_tables_ = std::make_unique<TunnelTables>(*fp->readers_);
  TunnelShards shards;
  for (uint16_t w = 0; w < queues; ++w) {
    auto channel = MeshChannel::create("vigil_mesh" + std::to_string(w), kMeshRingSize);
    if (!channel) {
      return fail(channel.error());
    }
    fp->mesh_channels_.push_back(std::move(*channel));
    if (queues > 1) {
      auto inbox = TunnelHandoff::create("vigil_handoff" + std::to_string(w), 2048);
      if (!inbox) {
        return fail(inbox.error());
      }
      shards.inboxes.push_back(inbox->get());
      fp->handoffs_.push_back(std::move(*inbox));
    }
  }
  fp->tunnel_stats_ = std::make_unique<TunnelPeerStats[]>(kMaxMeshPeers);

  std::vector<Port*> ports;
  for (auto& p : fp->ports_) {
    ports.push_back(p.get());
  }
  const uint64_t hz = rte_get_tsc_hz();
  for (uint16_t w = 0; w < queues; ++w) {
    std::vector<RxQueue> rx;
    if (fp->mesh_kernel_port_ >= 0) {
      // What the kernel sends to other sites is routed like any packet, into a tunnel.
      rx.push_back({.port = static_cast<PortId>(fp->mesh_kernel_port_), .queue = w});
    }
    for (size_t i = 0; i < fp->port_count_; ++i) {
      const auto p = static_cast<PortId>(i);  // below kTunnelPort, checked above
      rx.push_back({.port = p, .queue = w});
      if (fp->kernel_port_[p] >= 0) {
        // What the kernel sends on the TAP leaves by the port, as it is.
        rx.push_back({.port = static_cast<PortId>(fp->kernel_port_[p]),
                      .queue = w,
                      .forward_to = static_cast<int>(p)});
      }
    }
    auto worker = std::make_unique<LcoreWorker>(
        c.worker_lcores[w], std::move(rx), ports, fp->kernel_port_, w, *fp->readers_,
        hz / 1000000 * (c.tx_hold_us > 0 ? c.tx_hold_us : c.drain_us), c.idle, c.tx_hold_us > 0);
    if (fp->mesh_kernel_port_ >= 0) {
      worker->set_mesh_kernel_port(static_cast<PortId>(fp->mesh_kernel_port_), mesh_mac);
    }
    Pipeline& pl = worker->pipeline();
    // One ICMP budget per lcore, whichever stage refuses the packet.
    auto icmp = std::make_shared<IcmpResponder>(worker->counters(), c.hash_seed, c.icmp_limits, hz);
    pl.add(std::make_unique<ParseStage>());
    shards.self = w;
    auto& tunnels = fp->tunnels_.emplace_back(std::make_unique<LcoreTunnels>(
        *fp->routes_, *fp->tunnel_tables_, *fp->mesh_channels_[w], fp->tunnel_stats_.get(),
        worker->counters(), fp->pool_, shards));
    pl.add(std::make_unique<MeshReceiveStage>(*tunnels));
    pl.add(std::make_unique<AdmitStage>(*fp->routes_, icmp));
    pl.add(std::make_unique<RouteStage>(*fp->routes_, icmp, c.hash_seed));
    pl.add(std::make_unique<MeshSendStage>(*tunnels));
    pl.add(std::make_unique<NeighbourStage>(*fp->routes_, *fp->neighbours_, *worker,
                                            worker->counters(), c.hold, hz));
    if (fp->offload_) {
      pl.add(std::make_unique<OffloadStage>(*fp->offload_, hz));
    }
    fp->workers_.push_back(std::move(worker));
  }
  return fp;
}

std::vector<MeshChannel*> FastPath::mesh_channels() {
  std::vector<MeshChannel*> out;
  for (auto& c : mesh_channels_) {
    out.push_back(c.get());
  }
  return out;
}

std::vector<bool> FastPath::links_up() const {
  std::vector<bool> up;
  for (size_t p = 0; p < port_count_; ++p) {
    up.push_back(ports_[p]->link_up());
  }
  return up;
}

const Port* FastPath::kernel_port(PortId port) const {
  return port < kernel_port_.size() && kernel_port_[port] >= 0 ? ports_[kernel_port_[port]].get()
                                                               : nullptr;
}

FastPath::~FastPath() {
  stop();
  // The tunnels count into their workers' counters: they go first (their sessions handed
  // back through the channels, which free them), the stopped workers' pipelines after.
  tunnels_.clear();
  handoffs_.clear();
  mesh_channels_.clear();
  workers_.clear();
  ports_.clear();
  routes_.reset();  // before the neighbours, which hold its adjacencies
  neighbours_.reset();
  readers_.reset();
  rte_mempool_free(pool_);
}

Status FastPath::start() {
  running_ = true;  // from the first launch: stop() waits for whoever was launched
  for (auto& w : workers_) {
    if (int rc = rte_eal_remote_launch(run_worker, w.get(), w->lcore()); rc != 0) {
      stop();
      return fail("cannot launch the worker on lcore " + std::to_string(w->lcore()) + ": " +
                  rte_strerror(-rc));
    }
  }
  // The lcores poll: now the ports may receive.
  for (auto& p : ports_) {
    if (Status ok = p->start_receiving(); !ok) {
      stop();
      return ok;
    }
  }
  return Ok{};
}

void FastPath::stop() {
  if (!running_) {
    return;
  }
  for (auto& w : workers_) {
    w->stop();
  }
  for (auto& w : workers_) {
    rte_eal_wait_lcore(w->lcore());
  }
  running_ = false;
}

LcoreCounters FastPath::counters() const {
  LcoreCounters sum;
  for (const auto& w : workers_) {
    sum += w->counters();
  }
  return sum;
}

}  // namespace vigil::dp

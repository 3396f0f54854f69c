#include "dataplane/runtime/lcore_worker.h"

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <ctime>

namespace vigil::dp {

LcoreWorker::LcoreWorker(unsigned lcore, std::vector<RxQueue> rx, std::vector<Port*> ports,
                         std::vector<int> kernel_port, uint16_t tx_queue, QsbrReaders& readers,
                         uint64_t drain_tsc, IdlePolicy idle, bool hold_short_bursts)
    : lcore_(lcore),
      rx_(std::move(rx)),
      ports_(std::move(ports)),
      kernel_port_(std::move(kernel_port)),
      tx_queue_(tx_queue),
      readers_(readers),
      drain_tsc_(drain_tsc),
      idle_(idle),
      hold_short_bursts_(hold_short_bursts),
      pipeline_(*this, counters_),
      tx_(ports_.size()) {
  for (const RxQueue& q : rx_) {
    if (const int fd = ports_[q.port]->rx_wait_fd(q.queue); fd >= 0) {
      wait_fds_.push_back({.fd = fd, .events = POLLIN, .revents = 0});
    }
  }
}

LcoreWorker::~LcoreWorker() {
  for (auto& b : tx_) {
    rte_pktmbuf_free_bulk(b.packets, b.count);
  }
}

int LcoreWorker::run() {
  readers_.online(lcore_);
  uint32_t empty_polls = 0;
  uint32_t sleep_us = idle_.min_sleep_us;
  while (running_.load(std::memory_order_relaxed)) {
    const bool received = poll_once();
    if (!idle_.sleep) {
      continue;
    }
    if (received) {
      empty_polls = 0;
      sleep_us = idle_.min_sleep_us;
    } else if (++empty_polls >= idle_.polls_before_sleep) [[unlikely]] {
      sleep_idle(sleep_us);
      sleep_us = std::min(2 * sleep_us, idle_.max_sleep_us);
    }
  }
  flush_all();
  readers_.offline(lcore_);
  return 0;
}

bool LcoreWorker::poll_once() {
  bool received = false;
  bool backlog = false;
  for (const RxQueue& q : rx_) {
    const uint16_t n = ports_[q.port]->rx_burst(q.queue, burst_.packets, kBurstSize);
    if (n == 0) {
      continue;
    }
    received = true;
    backlog = backlog || n == kBurstSize;
    PortCounters& pc = counters_.ports[q.port];
    pc.rx_packets += n;
    for (uint16_t i = 0; i < n; ++i) {
      pc.rx_bytes += rte_pktmbuf_pkt_len(burst_.packets[i]);
    }
    if (q.forward_to >= 0) [[unlikely]] {
      for (uint16_t i = 0; i < n; ++i) {
        transmit(static_cast<PortId>(q.forward_to), burst_.packets[i]);
      }
      continue;
    }
    burst_.reset(q.port, n);
    pipeline_.run(burst_);
  }
  const uint64_t now = rte_rdtsc();
  received = pipeline_.poll(now, burst_) || received;
  // A queue that filled the burst may hold more: buffers wait (up to the drain timer) to
  // leave in full bursts. Otherwise every queue has been emptied and nothing more is coming
  // this instant, so waiting would only add latency (a ping across the lab's edge took 0.24
  // ms with every buffer waiting for the timer, 0.03-0.04 ms without), unless the operator
  // chose to trade that latency for fewer sends (dataplane.tx_hold_us).
  if (backlog || hold_short_bursts_) {
    flush_due(now);
  } else {
    flush_all();
  }
  // Between loops this lcore holds no pointer into the route or neighbour tables.
  readers_.quiescent(lcore_);
  return received;
}

void LcoreWorker::sleep_idle(uint32_t sleep_us) {
  flush_all();
  readers_.offline(lcore_);
  const timespec timeout{.tv_sec = 0, .tv_nsec = static_cast<long>(sleep_us) * 1000};
  // Readable fds or not, the loop polls every queue next; errors (EINTR) just end the nap.
  (void)ppoll(wait_fds_.data(), wait_fds_.size(), &timeout, nullptr);
  readers_.online(lcore_);
  ++counters_.idle_sleeps;
}

void LcoreWorker::transmit(PortId port, rte_mbuf* m) {
  TxBuffer& b = tx_[port];
  if (b.count == 0) {
    b.oldest_tsc = rte_rdtsc();
  }
  b.packets[b.count++] = m;
  if (b.count >= kBurstSize) {
    flush(port);
  }
}

void LcoreWorker::to_kernel(PortId in_port, bool from_tunnel, rte_mbuf* m) {
  if (from_tunnel && mesh_kernel_port_ >= 0) {
    // The device takes a frame addressed to itself; the source is its own too, as the kernel
    // needs no neighbour for a point-to-point hop. The frame has its Ethernet header: the
    // tunnel gave the inner packet one (LcoreTunnels::open_transport).
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = mesh_kernel_mac_;
    eth->src_addr = mesh_kernel_mac_;
    transmit(static_cast<PortId>(mesh_kernel_port_), m);
    return;
  }
  if (in_port < kernel_port_.size() && kernel_port_[in_port] >= 0) {
    transmit(static_cast<PortId>(kernel_port_[in_port]), m);
    return;
  }
  // No kernel behind this port (AF_XDP ports: the classifier passed what was for the box).
  counters_.drop(DropReason::kNoKernelPath);
  rte_pktmbuf_free(m);
}

void LcoreWorker::flush(PortId port) {
  TxBuffer& b = tx_[port];
  if (b.count == 0) {
    return;
  }
  // Lengths first: a sent mbuf may be freed by the device before tx_burst returns.
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    bytes += rte_pktmbuf_pkt_len(b.packets[i]);
  }
  const uint16_t sent = ports_[port]->tx_burst(tx_queue_, b.packets, b.count);
  if (sent < b.count) [[unlikely]] {
    for (uint16_t i = sent; i < b.count; ++i) {
      bytes -= rte_pktmbuf_pkt_len(b.packets[i]);
    }
    counters_.drops[static_cast<size_t>(DropReason::kQueueFull)] += b.count - sent;
    rte_pktmbuf_free_bulk(b.packets + sent, b.count - sent);
  }
  PortCounters& pc = counters_.ports[port];
  pc.tx_packets += sent;
  pc.tx_bytes += bytes;
  b.count = 0;
}

void LcoreWorker::flush_all() {
  for (size_t p = 0; p < tx_.size(); ++p) {
    flush(static_cast<PortId>(p));
  }
}

void LcoreWorker::flush_due(uint64_t now) {
  for (size_t p = 0; p < tx_.size(); ++p) {
    if (tx_[p].count > 0 && now - tx_[p].oldest_tsc >= drain_tsc_) {
      flush(static_cast<PortId>(p));
    }
  }
}

}  // namespace vigil::dp

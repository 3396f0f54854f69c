// One forwarding loop, pinned to one lcore: receive a burst from each of its RX queues, run
// it through its pipeline, buffer what leaves per port and send it in bursts (under load: a
// queue that filled its burst may hold more; the drain timer bounds the wait) or at once
// (when every queue came back short of a burst), report an RCU quiescent state, repeat.
// Everything it writes is its own (counters, buffers, stage state), so it shares no cache
// line with another lcore on the packet path.
//
// An lcore spins by default (a CPU of its own, the lowest latency). With IdlePolicy::sleep it
// backs off when its queues stay empty and its stages make nothing (another lcore's packets
// passed to it count as work), as VPP's adaptive RX mode or DPDK's power management
// do: it flushes what it buffered, leaves RCU (a sleeping reader must not hold up the control
// thread's grace periods), and sleeps until a queue's file descriptor polls readable (AF_XDP
// sockets) or a timer that doubles from min_sleep_us to max_sleep_us runs out.
#pragma once

#include <poll.h>

#include <atomic>
#include <memory>
#include <vector>

#include "dataplane/pipeline/pipeline.h"
#include "dataplane/ports/port.h"
#include "dataplane/runtime/qsbr_readers.h"

namespace vigil::dp {

struct RxQueue {
  PortId port = 0;
  uint16_t queue = 0;
  // An exception-path TAP: what the kernel sends goes straight out of this port, unrouted.
  int forward_to = -1;
};

struct IdlePolicy {
  bool sleep = false;
  uint32_t polls_before_sleep = 256;  // empty loops in a row, a few microseconds of spinning
  uint32_t min_sleep_us = 10;
  uint32_t max_sleep_us = 1000;  // also bounds how late hold-queue and drain timers run
};

class LcoreWorker final : public PacketSink {
 public:
  // `ports` is indexed by PortId (the TAPs of the exception path included); `kernel_port`
  // gives each port's TAP or -1. This worker transmits on queue `tx_queue` of each.
  LcoreWorker(unsigned lcore, std::vector<RxQueue> rx, std::vector<Port*> ports,
              std::vector<int> kernel_port, uint16_t tx_queue, QsbrReaders& readers,
              uint64_t drain_tsc, IdlePolicy idle = {}, bool hold_short_bursts = false);
  ~LcoreWorker() override;

  unsigned lcore() const { return lcore_; }
  Pipeline& pipeline() { return pipeline_; }
  const LcoreCounters& counters() const { return counters_; }
  LcoreCounters& counters() { return counters_; }

  // The loop; returns after stop().
  int run();
  // One pass of the loop: every RX queue once, then the stages' timers and the TX buffers.
  // Returns whether any packet arrived. run() calls it; tests call it directly.
  bool poll_once();
  void stop() { running_.store(false, std::memory_order_relaxed); }

  void transmit(PortId port, rte_mbuf* m) override;
  void to_kernel(PortId in_port, bool from_tunnel, rte_mbuf* m) override;
  // The mesh's kernel device (a TAP), where packets a tunnel decrypted for the box itself go,
  // addressed to `mac` (the device's own: it takes them as its own, with no ARP).
  void set_mesh_kernel_port(PortId port, const rte_ether_addr& mac) {
    mesh_kernel_port_ = static_cast<int>(port);
    mesh_kernel_mac_ = mac;
  }

 private:
  struct TxBuffer {
    uint16_t count = 0;
    uint64_t oldest_tsc = 0;
    rte_mbuf* packets[2 * kBurstSize] = {};
  };
  void flush(PortId port);
  void flush_all();
  void flush_due(uint64_t now);
  // Returns after a packet may have arrived or `sleep_us` passed, outside RCU meanwhile.
  void sleep_idle(uint32_t sleep_us);

  unsigned lcore_;
  std::vector<RxQueue> rx_;
  std::vector<Port*> ports_;
  std::vector<int> kernel_port_;
  int mesh_kernel_port_ = -1;
  rte_ether_addr mesh_kernel_mac_{};
  uint16_t tx_queue_;
  QsbrReaders& readers_;
  uint64_t drain_tsc_;
  IdlePolicy idle_;
  bool hold_short_bursts_;        // dataplane.tx_hold_us > 0: wait for the drain timer regardless
  std::vector<pollfd> wait_fds_;  // of the RX queues that have one
  LcoreCounters counters_;
  Pipeline pipeline_;
  std::vector<TxBuffer> tx_;
  Burst burst_;
  std::atomic<bool> running_{true};
};

}  // namespace vigil::dp

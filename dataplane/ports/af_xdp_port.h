// A kernel interface as a fast-path port over AF_XDP: one socket per queue, created by Vigil
// with libxdp (program loading inhibited) and inserted into the XDP classifier's xsks_map, so
// the classifier decides what reaches the fast path and everything else stays with the
// kernel. Why not DPDK's net_af_xdp PMD: docs/architecture.md ("AF_XDP ports").
//
// Frames are copied between the socket's UMEM and mbufs: half the UMEM frames sit in the fill
// ring for RX, half are free for TX. The kernel copies too on drivers without zero-copy
// (veth, most NICs in generic or copy mode).
#pragma once

#include <memory>
#include <vector>

#include "common/expected.h"
#include "dataplane/ports/port.h"

struct rte_mempool;

namespace vigil::dp {

struct AfXdpPortConfig {
  std::string name;       // Vigil's name for the port
  std::string interface;  // the kernel interface
  uint16_t queues = 1;
  int xsks_map_fd = -1;    // the classifier's XSKMAP on this interface
  uint32_t frames = 4096;  // UMEM frames per queue (2 KiB each)
};

class AfXdpPort final : public Port {
 public:
  static Expected<PortPtr> open(const AfXdpPortConfig& config, rte_mempool* pool);
  ~AfXdpPort() override;

  const std::string& name() const override { return name_; }
  rte_ether_addr mac() const override { return mac_; }
  uint16_t queue_count() const override { return static_cast<uint16_t>(queues_.size()); }
  uint16_t rx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) override;
  PortStats stats() const override;
  bool link_up() const override;
  int rx_wait_fd(uint16_t queue) const override;
  // Inserts each queue's socket into the classifier's XSKMAP.
  Status start_receiving() override;

 private:
  // The socket, its UMEM and rings (libxdp types, kept out of this header: libbpf's headers
  // clash with libpcap's, and users of ports need neither).
  struct Queue;
  AfXdpPort(std::string name, std::string interface, int xsks_map_fd, rte_mempool* pool);
  Status open_queue(const AfXdpPortConfig& config, uint16_t queue);
  static void reclaim(Queue& q);

  std::string name_;
  std::string interface_;
  int xsks_map_fd_;
  rte_mempool* pool_;
  rte_ether_addr mac_{};
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace vigil::dp

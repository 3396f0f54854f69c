// A port the fast path receives from and sends on: a DPDK ethdev (any PMD, by devargs) or an
// AF_XDP socket pair the XDP classifier feeds. Queue i of every port belongs to lcore i,
// which alone calls rx_burst/tx_burst on it. Calls are per burst, so one virtual call is
// noise next to the 32 packets it moves.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"

struct rte_mbuf;

namespace vigil::dp {

struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  uint64_t rx_missed = 0;  // the device dropped them: no room in the RX ring
  uint64_t tx_errors = 0;
};

class Port {
 public:
  virtual ~Port() = default;
  virtual const std::string& name() const = 0;
  virtual rte_ether_addr mac() const = 0;
  virtual uint16_t queue_count() const = 0;
  // Up to `n` packets; returns how many.
  virtual uint16_t rx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) = 0;
  // Takes ownership of the first k (the return value); the rest stay the caller's.
  virtual uint16_t tx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) = 0;
  // The device's own counters (what it saw, including what never reached an lcore).
  virtual PortStats stats() const = 0;
  // Whether the link can carry packets now (administratively up, with carrier). Control
  // thread; routes over a port whose link is down are withdrawn.
  virtual bool link_up() const = 0;
  // A file descriptor that polls readable when `queue` has packets to receive, for an lcore
  // that sleeps while idle; -1 when the device offers none (the lcore then sleeps on a timer).
  virtual int rx_wait_fd(uint16_t /*queue*/) const { return -1; }
  // Called once the lcores poll and the FIB is in place, before which the port may receive
  // nothing: an AF_XDP port joins the classifier's XSKMAP only now, so until the new fast path
  // can forward, the classifier keeps handing transit to the kernel (the FIB mirror's
  // fallback) instead of to sockets nobody reads yet.
  virtual Status start_receiving() { return Ok{}; }
};

using PortPtr = std::unique_ptr<Port>;

}  // namespace vigil::dp

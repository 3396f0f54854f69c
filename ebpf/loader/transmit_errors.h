// Frames the classifier handed to XDP_TX or XDP_REDIRECT that the kernel then did not send, and
// XDP_ABORTED: counted per device by transmit_errors.bpf.c on the kernel's xdp tracepoints
// (the verdict counters count decisions; the device's failures happen after the program has
// returned, where only these tracepoints see them).
//
// The programs are attached while this object lives and count only devices in the network
// namespace it was loaded in. Nothing is pinned: the counts start when vigil-dp does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"

struct vigil_transmit_errors;

namespace vigil::ebpf {

struct TransmitErrors {
  uint64_t tx_failed = 0;        // XDP_TX frames the device could not send
  uint64_t redirect_failed = 0;  // XDP_REDIRECT refused, or dropped by the target device
  uint64_t aborted = 0;          // XDP_ABORTED or an unknown action
};

class TransmitErrorCounter {
 public:
  // Loads and attaches the programs; fails (with the kernel's reason) where the kernel has no
  // BTF for its tracepoints.
  static Expected<std::unique_ptr<TransmitErrorCounter>> load();
  ~TransmitErrorCounter();
  TransmitErrorCounter(const TransmitErrorCounter&) = delete;
  TransmitErrorCounter& operator=(const TransmitErrorCounter&) = delete;

  // Summed over the CPUs; zero for a device that never failed.
  TransmitErrors of(unsigned ifindex) const;

 private:
  TransmitErrorCounter() = default;
  vigil_transmit_errors* skel_ = nullptr;
  int cpus_ = 0;
};

}  // namespace vigil::ebpf

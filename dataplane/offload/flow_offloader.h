// The control thread's side of flow offload: takes the flows lcores offer (OffloadChannel)
// and writes them into the ingress port's classifier, retires them all at once when the
// tables they were decided on change, and keeps track of which ports can take part.
//
// A port takes part when the classifier runs on it (its maps) and the kernel says the device
// can transmit frames redirected from XDP (checked at start and every few seconds: a veth
// gains or loses it with its peer's GRO). Others are left to vigil-dp, and said so in the log.
//
// Generations: each change of routes, port details or a known next hop's MAC moves the
// generation on, in the classifiers (which then ignore every older entry) and in the channel
// (offers decided before the change carry the old one and are dropped here). vigil-dp starts
// above whatever generation the pinned maps of an earlier run hold, and stops offloading
// (generation 0) when it stops; if it dies, offloaded flows keep being forwarded as they were
// decided until it is back and starts a new generation.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/api/dataplane_status.h"
#include "common/expected.h"
#include "dataplane/offload/offload_channel.h"
#include "ebpf/loader/counters.h"
#include "ebpf/loader/map_access.h"

namespace vigil::dp {

struct OffloadPort {
  PortId id = 0;
  std::string name;
  uint32_t ifindex = 0;             // 0: not a kernel device (a DPDK PMD's own port)
  ebpf::MapAccess* maps = nullptr;  // the classifier on the device, nullptr when none
};

class FlowOffloader {
 public:
  // NETDEV_XDP_ACT_* bits of a device (XdpFeatures in production).
  using XdpFeaturesOf = std::function<Expected<uint64_t>(uint32_t ifindex)>;
  static constexpr std::chrono::seconds kRecheck{2};

  FlowOffloader(OffloadChannel& channel, std::vector<OffloadPort> ports, XdpFeaturesOf features);
  // Stops offloading: generation 0 in every classifier.
  ~FlowOffloader();
  FlowOffloader(const FlowOffloader&) = delete;
  FlowOffloader& operator=(const FlowOffloader&) = delete;

  // Retires every offloaded flow: what they were decided on changed.
  void invalidate();
  // Installs what the lcores offered; now and then, looks at the ports' capabilities again.
  void tick();

  uint32_t generation() const { return generation_; }
  struct Stats {
    uint64_t installed = 0;  // entries written
    uint64_t stale = 0;      // offers decided before the latest change
    uint64_t declined = 0;   // offers between ports that no longer take part
    uint64_t failed = 0;     // map writes the kernel refused
  };
  const Stats& stats() const { return stats_; }
  bool offloadable(PortId port) const;
  // Per port (by PortId): why it does not take part (empty: it does), and what the
  // classifiers forwarded for offloaded flows in by it and out by it.
  struct PortCounts {
    std::string name;
    std::string why_not;
    ebpf::Count rx, tx;
  };
  std::vector<PortCounts> port_counts() const;
  // The same and the offers' outcomes, as dataplane.show gives them.
  api::FlowOffloadStatus show() const;

 private:
  void check_ports();
  // Makes `port`'s device a redirect target in every classifier when `why_not` is empty, or
  // takes it out; a refused write becomes the reason it does not take part.
  void set_target(const OffloadPort& port, std::string& why_not);
  void write_generation();
  void install(const FlowOffer& offer);

  OffloadChannel& channel_;
  std::vector<OffloadPort> ports_;  // by PortId
  XdpFeaturesOf features_;
  std::vector<std::string> why_not_;  // by PortId: empty when the port takes part
  bool checked_ = false;  // the ports were looked at once: later, only changes are logged
  uint32_t generation_ = 0;
  Stats stats_;
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace vigil::dp

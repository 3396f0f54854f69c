// The control thread's side of flow offload: takes the flows lcores offer (OffloadChannel)
// and writes them into the ingress port's classifier, retires them all at once when the
// tables they were decided on change, and keeps track of which ports can take part.
//
// A port takes part when the classifier runs on it (its maps) and the kernel says the device
// can transmit frames redirected from XDP (checked at start and every few seconds: a veth
// gains or loses it with its peer's GRO). Others are left to vigil-dp, and said so in the log.
//
// Generations: each change of routes or port details moves the generation on, in the
// classifiers (which then ignore every older entry) and in the channel (offers decided before
// the change carry the old one and are dropped here). A known next hop's new MAC retires only
// the flows offloaded to its old one, found in an index of what was installed (bounded: past
// kMaxIndexed the generation moves on instead), and a neighbour whose MAC keeps changing is
// damped (neighbour_damping.h): one LAN host flapping its ARP costs only its own flows. vigil-dp
// starts above whatever generation the pinned maps of an earlier run hold, and stops offloading
// (generation 0) when it stops; if it dies, offloaded flows keep being forwarded as they were
// decided until it is back and starts a new generation.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/api/dataplane_status.h"
#include "common/expected.h"
#include "dataplane/offload/neighbour_damping.h"
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

  static constexpr size_t kMaxIndexed = size_t{1} << 18;

  // Retires every offloaded flow: what they were decided on changed.
  void invalidate();
  // The neighbour `address` on `port` had `old_mac` and now has `new_mac` (none: it went):
  // retires the flows offloaded to `old_mac` out of `port`, and damps a flapping neighbour.
  void neighbour_changed(PortId port, const net::IpAddress& address, const Mac& old_mac,
                         const std::optional<Mac>& new_mac);
  // Installs what the lcores offered; now and then, looks at the ports' capabilities again.
  void tick();

  uint32_t generation() const { return generation_; }
  struct Stats {
    uint64_t installed = 0;  // entries written
    uint64_t stale = 0;      // offers decided before the latest change
    uint64_t declined = 0;   // offers between ports that no longer take part
    uint64_t failed = 0;     // map writes the kernel refused
    uint64_t retired = 0;    // flows removed because their next hop's MAC changed
    uint64_t held = 0;       // offers to a next hop that just changed or is damped
  };
  const Stats& stats() const { return stats_; }
  size_t damped_neighbours() const { return damping_.damped(std::chrono::steady_clock::now()); }
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
  void clear_index();

  OffloadChannel& channel_;
  std::vector<OffloadPort> ports_;  // by PortId
  XdpFeaturesOf features_;
  std::vector<std::string> why_not_;  // by PortId: empty when the port takes part
  bool checked_ = false;  // the ports were looked at once: later, only changes are logged
  uint32_t generation_ = 0;
  Stats stats_;
  std::chrono::steady_clock::time_point next_check_{};
  NeighbourDamping damping_;
  // What was installed, by the next hop it leaves for (egress port, MAC): (ingress port, key).
  std::map<std::pair<PortId, Mac>, std::vector<std::pair<PortId, vigil_offload_key>>> installed_;
  size_t indexed_ = 0;
};

}  // namespace vigil::dp

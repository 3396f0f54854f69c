// Which next hops' MACs flow offload must leave alone for now, so that a neighbour whose MAC
// changes costs only its own flows, and one whose MAC keeps changing (a LAN host flapping
// its ARP, on purpose or not) cannot keep the offloader busy:
//
//  - a MAC that was just replaced (or whose neighbour went) is held for `settle`: an offer an
//    lcore decided before the change may still carry it, and is declined;
//  - a neighbour that changed `flaps` times within `window` is damped for `damped`: offers to
//    every MAC it has had since, the current one included, are declined, so its flows stay
//    on vigil-dp (which always sends to the neighbour table's current MAC) until it has been
//    quiet that long.
//
// Pure logic on a caller's clock, bounded: at most `max_tracked` neighbours and MACs are
// remembered (the oldest are forgotten first; forgetting errs towards offloading again).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "common/net/ip.h"
#include "dataplane/forwarding/next_hop_group.h"

namespace vigil::dp {

using Mac = std::array<uint8_t, 6>;

class NeighbourDamping {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    int flaps = 3;
    std::chrono::seconds window{10};
    std::chrono::seconds damped{30};
    std::chrono::seconds settle{1};
    size_t max_tracked = 4096;
  };

  NeighbourDamping() : NeighbourDamping(Limits{}) {}
  explicit NeighbourDamping(Limits limits) : limits_(limits) {}

  // The neighbour `address` on `port` had `old_mac` and now has `new_mac` (none: it went).
  // Returns true when this change made it damped (once per damping, for the log).
  bool changed(PortId port, const net::IpAddress& address, const Mac& old_mac,
               const std::optional<Mac>& new_mac, Clock::time_point now);
  // Whether an offer of a flow leaving by `port` to `mac` is to be declined at `now`.
  bool holds(PortId port, const Mac& mac, Clock::time_point now) const;
  // Neighbours damped at `now`.
  size_t damped(Clock::time_point now) const;

 private:
  struct Flapping {
    int changes = 0;
    Clock::time_point window_start, damped_until;
  };
  void hold(PortId port, const Mac& mac, Clock::time_point until);
  template <typename Map>
  void bound(Map& m, Clock::time_point now);

  Limits limits_;
  std::map<std::pair<PortId, net::IpAddress>, Flapping> neighbours_;
  std::map<std::pair<PortId, Mac>, Clock::time_point> held_;  // until when
};

}  // namespace vigil::dp

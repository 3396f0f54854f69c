#include "dataplane/offload/neighbour_damping.h"

#include <algorithm>

namespace vigil::dp {

void NeighbourDamping::hold(PortId port, const Mac& mac, Clock::time_point until) {
  auto& at = held_[{port, mac}];
  at = std::max(at, until);
}

// Keeps a map within max_tracked: first what has expired, then the entries that expire first.
template <typename Map>
void NeighbourDamping::bound(Map& m, Clock::time_point now) {
  auto until = [](const auto& entry) {
    if constexpr (std::is_same_v<std::decay_t<decltype(entry.second)>, Flapping>) {
      return std::max(entry.second.damped_until, entry.second.window_start);
    } else {
      return entry.second;
    }
  };
  if (m.size() <= limits_.max_tracked) {
    return;
  }
  std::erase_if(m, [&](const auto& entry) { return until(entry) + limits_.window < now; });
  while (m.size() > limits_.max_tracked) {
    m.erase(std::min_element(m.begin(), m.end(),
                             [&](const auto& a, const auto& b) { return until(a) < until(b); }));
  }
}

bool NeighbourDamping::changed(PortId port, const net::IpAddress& address, const Mac& old_mac,
                               const std::optional<Mac>& new_mac, Clock::time_point now) {
  Flapping& f = neighbours_[{port, address}];
  const bool was_damped = f.damped_until > now;
  if (f.changes == 0 || now - f.window_start > limits_.window) {
    f.changes = 0;
    f.window_start = now;
  }
  if (++f.changes >= limits_.flaps) {
    f.damped_until = now + limits_.damped;
  }
  const bool damped = f.damped_until > now;
  hold(port, old_mac, now + (damped ? limits_.damped : limits_.settle));
  if (damped && new_mac) {
    hold(port, *new_mac, f.damped_until);
  }
  bound(neighbours_, now);
  bound(held_, now);
  return damped && !was_damped;
}

bool NeighbourDamping::holds(PortId port, const Mac& mac, Clock::time_point now) const {
  const auto it = held_.find({port, mac});
  return it != held_.end() && it->second > now;
}

size_t NeighbourDamping::damped(Clock::time_point now) const {
  return static_cast<size_t>(
      std::count_if(neighbours_.begin(), neighbours_.end(),
                    [&](const auto& n) { return n.second.damped_until > now; }));
}

}  // namespace vigil::dp

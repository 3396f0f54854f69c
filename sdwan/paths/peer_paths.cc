#include "sdwan/paths/peer_paths.h"

#include <algorithm>

namespace vigil::paths {

void PeerPaths::set_paths(std::span<const PathKey> keys) {
  const size_t n = std::min(keys.size(), kMaxPaths);
  std::array<Path, kMaxPaths> next{};
  for (size_t i = 0; i < n; ++i) {
    const auto old = std::find_if(paths_.begin(), paths_.begin() + static_cast<long>(count_),
                                  [&](const Path& p) { return p.key == keys[i]; });
    if (old != paths_.begin() + static_cast<long>(count_)) {
      next[i] = *old;  // the same path: what its probes said stays
    } else {
      if (next_epoch_ == 0) {
        next_epoch_ = 1;  // 0 is "no epoch yet"
      }
      next[i] = Path{.key = keys[i],
                     .stats = PathStats(next_epoch_++, timing_.interval_ns),
                     .monitor = PathMonitor(timing_, sla_)};
    }
  }
  paths_ = next;
  count_ = n;
}

size_t PeerPaths::due(int64_t now_ns, std::span<uint16_t> out) {
  size_t n = 0;
  for (size_t i = 0; i < count_ && n < out.size(); ++i) {
    Path& p = paths_[i];
    if (p.next_probe_ns > now_ns) {
      continue;
    }
    out[n++] = static_cast<uint16_t>(i);
    // On the interval's grid, not now + interval: a late loop does not drift the probes; one
    // very late (the lcore was away) starts the grid again from now.
    p.next_probe_ns = p.next_probe_ns == 0 || now_ns - p.next_probe_ns >= timing_.interval_ns
                          ? now_ns + timing_.interval_ns
                          : p.next_probe_ns + timing_.interval_ns;
  }
  return n;
}

ProbeMessage PeerPaths::probe(size_t path, int64_t now_ns) {
  Path& p = paths_[path];
  return p.stats.probe(p.key.link, now_ns);
}

void PeerPaths::received(size_t path, const ProbeMessage& m, int64_t now_ns) {
  if (path < count_) {
    paths_[path].stats.received(m, now_ns);
  }
}

size_t PeerPaths::evaluate(int64_t now_ns, std::span<PathEvent> out) {
  size_t n = 0;
  for (size_t i = 0; i < count_; ++i) {
    Path& p = paths_[i];
    if (auto t = p.monitor.evaluate(p.stats, now_ns); t && n < out.size()) {
      out[n++] = PathEvent{.path = i, .transition = *t};
    }
  }
  return n;
}

std::optional<size_t> PeerPaths::active() const {
  for (PathState wanted : {PathState::kUp, PathState::kDegraded}) {
    for (size_t i = 0; i < count_; ++i) {
      if (paths_[i].monitor.state() == wanted) {
        return i;
      }
    }
  }
  return std::nullopt;
}

}  // namespace vigil::paths

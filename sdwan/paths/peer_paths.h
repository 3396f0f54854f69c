// One peer's paths, each a WAN link of ours toward one endpoint of theirs: when each is due a
// probe, what its probes say (PathStats), its state (PathMonitor), and which path the peer's
// traffic takes now. The paths are in order of preference (the config's WAN links and
// endpoints in order); traffic takes the first one up, else the first one degraded, else none.
// Since a path is up again only after its hold time, that order also makes failback wait for
// readmission, and a path that flaps never takes traffic back. Run by the lcore that owns the
// peer: fixed size, no allocation, the caller's clock (steady nanoseconds).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "sdwan/paths/path_monitor.h"
#include "sdwan/paths/path_stats.h"
#include "sdwan/paths/probe_message.h"

namespace vigil::paths {

inline constexpr size_t kMaxPaths = 16;

// A path by its parts: our WAN link and the peer's endpoint, each an index the caller keeps
// (for show and the probe's link byte), and `id`, whatever else makes it the same path to the
// caller (the link's port, its next hop, the endpoint's address): a key that differs in any
// part is another path, measured from the start.
struct PathKey {
  uint8_t link = 0;
  uint8_t endpoint = 0;
  uint32_t id = 0;
  bool operator==(const PathKey&) const = default;
};

// A path's state changed.
struct PathEvent {
  size_t path = 0;
  Transition transition;
};

class PeerPaths {
 public:
  // Each path measured from the start gets its own epoch, counting from `first_epoch`: a path
  // that goes and comes back, or a PeerPaths made again, must not reuse one the peer saw
  // (the peer would take its sequence numbers, starting again at 1, for old probes). The
  // caller gives each PeerPaths its own range.
  PeerPaths(PathTiming timing, PathSla sla, uint32_t first_epoch = 1)
      : timing_(timing), sla_(sla), next_epoch_(first_epoch) {}

  // The paths, in order of preference (at most kMaxPaths; the rest are ignored). A path that
  // stays keeps its statistics and state; a new one starts down, as a new path does.
  void set_paths(std::span<const PathKey> keys);
  size_t size() const { return count_; }
  const PathTiming& timing() const { return timing_; }
  const PathKey& key(size_t path) const { return paths_[path].key; }

  // The paths due a probe at `now` (their indexes into `out`, at most out.size()), each
  // then due again an interval later; how many.
  size_t due(int64_t now_ns, std::span<uint16_t> out);
  // The probe to send on `path` now: the next sequence number and the echoes.
  ProbeMessage probe(size_t path, int64_t now_ns);
  // A probe the peer sent on `path`, received now.
  void received(size_t path, const ProbeMessage& m, int64_t now_ns);
  // Every path's state at `now` (after probes arrived, and every interval): the changes, in
  // `out` (at most out.size(); the rest are still made); how many.
  size_t evaluate(int64_t now_ns, std::span<PathEvent> out);

  // The path the peer's traffic takes: the first up, else the first degraded, else none.
  std::optional<size_t> active() const;

  const PathStats& stats(size_t path) const { return paths_[path].stats; }
  const PathMonitor& monitor(size_t path) const { return paths_[path].monitor; }

 private:
  struct Path {
    PathKey key;
    PathStats stats;
    PathMonitor monitor;
    int64_t next_probe_ns = 0;  // 0: at once
  };

  PathTiming timing_;
  PathSla sla_;
  uint32_t next_epoch_;
  std::array<Path, kMaxPaths> paths_{};
  size_t count_ = 0;
};

}  // namespace vigil::paths

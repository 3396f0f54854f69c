// Which of a peer's paths each application class takes. A path carries a class while it is up
// and meets the class's terms (PathClass::sla); one that breaks them is left at once and taken
// again only after meeting them for its hold time without a break (a path back from down has
// waited its hold already and is taken at once). Among the paths a class may take:
//   ordered:        the first by the class's link order, then the peer's endpoint order, so
//                   the class moves back when its preferred path is readmitted;
//   lowest-latency,
//   lowest-loss:    the best when the class's path must be chosen, kept while it meets the
//                   terms (a flow keeps its path unless that path leaves its SLA);
//   load-balance:   each flow by rendezvous hashing over them, so a flow moves only when its
//                   own path leaves.
// No path meets the terms: none (the caller sends by the peer's first path up). Run by the
// lcore that owns the peer after each evaluation of its paths: fixed size, no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "sdwan/paths/path_class.h"
#include "sdwan/paths/peer_paths.h"

namespace vigil::paths {

class ClassPaths {
 public:
  ClassPaths() { chosen_.fill(-1); }

  // Admission and choice again, at `now`, for `classes` over the peer's `paths`.
  void evaluate(std::span<const PathClass> classes, const PeerPaths& paths, int64_t now_ns);
  // The path for a packet of class `c` whose flow hashes to `flow_hash`.
  std::optional<size_t> path_for(size_t c, uint32_t flow_hash) const;
  // The classes (bit c) whose traffic `path` carries now (for show): the path chosen for them,
  // or for load-balance one of the paths they spread over.
  uint32_t classes_on(size_t path) const;
  // Whether class `c` may take `path` now.
  bool admitted(size_t c, size_t path) const { return admission_[c][path].admitted; }
  // Everything decided goes (the classes changed).
  void reset() { *this = ClassPaths(); }
  // The paths changed (set_paths): `from[k]` is where new path k was before (-1: a new one),
  // for `count` paths. What was decided of a path that stays, stays (a commit that changes
  // nothing of a class must not cut a path's hold short or move its flows).
  void remap(std::span<const int16_t> from, size_t count);

 private:
  struct Admission {
    bool admitted = false;
    bool breached = false;      // seen past its terms while up: admitted only after the hold
    int64_t good_since_ns = 0;  // meeting them again since (0: not now)
  };
  // What a path is measured at, read once per evaluation for every class.
  struct Measured {
    bool up = false;
    std::optional<int64_t> rtt_ns;
    int64_t jitter_ns = 0;
    double loss = 0;
  };
  std::array<std::array<Admission, kMaxPaths>, kMaxClasses> admission_{};
  std::array<int16_t, kMaxClasses> chosen_{};    // ordered, lowest-*: the class's path (-1 none)
  std::array<uint16_t, kMaxClasses> allowed_{};  // load-balance: the paths admitted (bits)
  std::array<uint8_t, kMaxClasses> preference_{};
  // Each path's identity for rendezvous hashing (PathKey::id, else its place): a flow's score
  // for a path must not change when the path moves in the list.
  std::array<uint32_t, kMaxPaths> identity_{};
  size_t path_count_ = 0;
};

}  // namespace vigil::paths

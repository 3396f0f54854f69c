#include "sdwan/paths/class_paths.h"

namespace vigil::paths {
namespace {

enum class Terms { kMet, kBroken, kUnknown };

template <typename M>
Terms terms(const PathSla& sla, const M& m) {
  if ((sla.max_jitter_ns && m.jitter_ns > *sla.max_jitter_ns) ||
      (sla.max_loss && m.loss > *sla.max_loss) ||
      (sla.max_rtt_ns && m.rtt_ns && *m.rtt_ns > *sla.max_rtt_ns)) {
    return Terms::kBroken;
  }
  // No round trip measured yet: neither met nor broken.
  return sla.max_rtt_ns && !m.rtt_ns ? Terms::kUnknown : Terms::kMet;
}

uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

}  // namespace

void ClassPaths::remap(std::span<const int16_t> from, size_t count) {
  ClassPaths before = *this;
  *this = ClassPaths();
  for (size_t c = 0; c < kMaxClasses; ++c) {
    preference_[c] = before.preference_[c];
    for (size_t k = 0; k < count && k < from.size() && k < kMaxPaths; ++k) {
      if (from[k] < 0 || static_cast<size_t>(from[k]) >= kMaxPaths) {
        continue;
      }
      const auto old = static_cast<size_t>(from[k]);
      admission_[c][k] = before.admission_[c][old];
      if (before.chosen_[c] == from[k]) {
        chosen_[c] = static_cast<int16_t>(k);
      }
      if ((before.allowed_[c] >> old & 1) != 0) {
        allowed_[c] = static_cast<uint16_t>(allowed_[c] | 1u << k);
      }
    }
  }
  for (size_t k = 0; k < count && k < from.size() && k < kMaxPaths; ++k) {
    if (from[k] >= 0 && static_cast<size_t>(from[k]) < kMaxPaths) {
      identity_[k] = before.identity_[static_cast<size_t>(from[k])];
    }
  }
  path_count_ = count;
}

void ClassPaths::evaluate(std::span<const PathClass> classes, const PeerPaths& paths,
                          int64_t now_ns) {
  path_count_ = paths.size();
  std::array<Measured, kMaxPaths> measured{};
  for (size_t k = 0; k < path_count_; ++k) {
    identity_[k] = paths.key(k).id != 0 ? paths.key(k).id : static_cast<uint32_t>(k);
    const PathStats& s = paths.stats(k);
    measured[k] = {.up = paths.monitor(k).state() == PathState::kUp,
                   .rtt_ns = s.rtt_ns(),
                   .jitter_ns = s.jitter_ns(),
                   .loss = s.loss_1s(now_ns)};
  }
  const size_t count = std::min(classes.size(), kMaxClasses);
  for (size_t c = 0; c < count; ++c) {
    const PathClass& cls = classes[c];
    preference_[c] = static_cast<uint8_t>(cls.preference);
    uint16_t allowed = 0;
    for (size_t k = 0; k < path_count_; ++k) {
      Admission& a = admission_[c][k];
      const int64_t hold = paths.monitor(k).timing().hold_ns;
      const Terms t = measured[k].up ? terms(cls.sla, measured[k]) : Terms::kUnknown;
      if (!measured[k].up) {
        a = Admission{};  // down or not yet held: the path's own hold comes first
      } else if (t == Terms::kBroken) {
        // Past the terms while up, admitted or not: it is taken only after the hold.
        a.admitted = false;
        a.breached = true;
        a.good_since_ns = 0;
      } else if (t == Terms::kMet && !a.admitted) {
        if (!a.breached) {
          a.admitted = true;
        } else if (a.good_since_ns == 0) {
          a.good_since_ns = now_ns;
        } else if (now_ns - a.good_since_ns >= hold) {
          a = Admission{.admitted = true};
        }
      }
      if (a.admitted) {
        allowed = static_cast<uint16_t>(allowed | 1u << k);
      }
    }
    allowed_[c] = allowed;
    int16_t& chosen = chosen_[c];
    const bool keep =
        chosen >= 0 && static_cast<size_t>(chosen) < path_count_ && (allowed >> chosen & 1) != 0;
    if (cls.preference == Preference::kLoadBalance ||
        (keep && cls.preference != Preference::kOrdered)) {
      continue;
    }
    // Choose: the best admitted path by the class's preference.
    int16_t best = -1;
    for (size_t k = 0; k < path_count_; ++k) {
      if ((allowed >> k & 1) == 0) {
        continue;
      }
      if (best < 0) {
        best = static_cast<int16_t>(k);
        continue;
      }
      const auto b = static_cast<size_t>(best);
      bool better = false;
      switch (cls.preference) {
        case Preference::kOrdered: {
          const uint8_t rank_k = cls.link_rank[paths.key(k).link % kMaxLinks];
          const uint8_t rank_b = cls.link_rank[paths.key(b).link % kMaxLinks];
          better = rank_k < rank_b;  // same rank: the earlier path stays best
          break;
        }
        case Preference::kLowestLatency:
          better = measured[k].rtt_ns.value_or(INT64_MAX) < measured[b].rtt_ns.value_or(INT64_MAX);
          break;
        case Preference::kLowestLoss: {
          const double lk = measured[k].loss, lb = measured[b].loss;
          better = lk < lb || (lk == lb && measured[k].rtt_ns.value_or(INT64_MAX) <
                                               measured[b].rtt_ns.value_or(INT64_MAX));
          break;
        }
        case Preference::kLoadBalance:
          break;
      }
      if (better) {
        best = static_cast<int16_t>(k);
      }
    }
    chosen = best;
  }
  for (size_t c = count; c < kMaxClasses; ++c) {
    chosen_[c] = -1;
    allowed_[c] = 0;
  }
}

uint32_t ClassPaths::classes_on(size_t path) const {
  uint32_t on = 0;
  for (size_t c = 0; c < kMaxClasses && path < kMaxPaths; ++c) {
    const bool spread = preference_[c] == static_cast<uint8_t>(Preference::kLoadBalance);
    if (spread ? (allowed_[c] >> path & 1) != 0 : chosen_[c] == static_cast<int16_t>(path)) {
      on |= uint32_t{1} << c;
    }
  }
  return on;
}

std::optional<size_t> ClassPaths::path_for(size_t c, uint32_t flow_hash) const {
  if (c >= kMaxClasses) {
    return std::nullopt;
  }
  if (preference_[c] == static_cast<uint8_t>(Preference::kLoadBalance)) {
    // Rendezvous: the admitted path with the highest score for this flow.
    std::optional<size_t> best;
    uint32_t best_score = 0;
    for (size_t k = 0; k < path_count_; ++k) {
      if ((allowed_[c] >> k & 1) == 0) {
        continue;
      }
      const uint32_t score = mix(flow_hash ^ mix(identity_[k] + 0x9e3779b9u));
      if (!best || score > best_score) {
        best = k;
        best_score = score;
      }
    }
    return best;
  }
  return chosen_[c] >= 0 ? std::optional<size_t>(static_cast<size_t>(chosen_[c])) : std::nullopt;
}

}  // namespace vigil::paths

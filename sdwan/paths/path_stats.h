// What the probes say about one path: round trip time (an EWMA, as TCP's srtt, and p50/p99 of
// the last 128 samples), the jitter each way (RFC 3550's estimator of what arrives, and what the
// peer says of ours), the loss each way over the last second and the last ten, and when both
// directions were last seen working. Fed by the probes sent and received on the path, with the
// caller's clock (nanoseconds, steady), so tests script any sequence. Fixed size, no allocation:
// the lcore that owns the path keeps one per path.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "sdwan/paths/probe_message.h"

namespace vigil::paths {

inline constexpr size_t kRttSamples = 128;
inline constexpr int64_t kLossBucketNs = 100'000'000;  // 100 ms
inline constexpr size_t kLossBuckets = 100;            // 10 s

struct Loss {
  // 64 bits: the peer says how many it received, and a lying one must not wrap a window's sum.
  uint64_t expected = 0;
  uint64_t received = 0;
  // Lost over expected, 0 to 1 (0 when nothing was expected).
  double ratio() const {
    return expected == 0 || received >= expected
               ? 0.0
               : static_cast<double>(expected - received) / static_cast<double>(expected);
  }
};

struct PathSnapshot {
  std::optional<int64_t> rtt_ns;  // EWMA; nothing before the first echo
  std::optional<int64_t> rtt_p50_ns, rtt_p99_ns;
  int64_t jitter_in_ns = 0, jitter_out_ns = 0;
  Loss loss_in_1s, loss_in_10s, loss_out_1s, loss_out_10s;
  int64_t last_heard_ns = 0;      // 0: never
  int64_t last_confirmed_ns = 0;  // see PathStats::last_confirmed_ns()
  uint64_t sent = 0, received = 0;
  uint32_t peer_epochs = 0;  // epochs seen from the peer: more than one means it started again
};

class PathStats {
 public:
  // `epoch`: this side's measurement of the path (not 0; a new one each time it starts, so the
  // peer knows to start its counts again); `interval_ns`: how often this side probes.
  PathStats() = default;
  PathStats(uint32_t epoch, int64_t interval_ns)
      : epoch_(epoch == 0 ? 1 : epoch), interval_ns_(interval_ns) {}

  // The probe this side sends on the path now, from `link`: the next sequence number, the
  // echoes of the peer's last, and what this side measures of the peer's.
  ProbeMessage probe(uint8_t link, int64_t now_ns);
  // A probe from the peer on this path, received at `now_ns` (this side's clock).
  void received(const ProbeMessage& m, int64_t now_ns);

  PathSnapshot snapshot(int64_t now_ns) const;
  int64_t last_heard_ns() const { return last_heard_ns_; }
  // When a probe last showed both directions working: it came from the peer and echoed a probe
  // of ours newer than any it echoed before (0: never). A path whose probes still arrive but
  // whose own no longer reach the peer (a one-way failure) stops being confirmed.
  int64_t last_confirmed_ns() const { return last_confirmed_ns_; }
  // How often the peer says it probes (the longer of its and ours is how long silence may last
  // before a probe counts as missed).
  int64_t peer_interval_ns() const { return peer_interval_ns_; }
  // What the state machine reads on every evaluation, without sorting the samples.
  std::optional<int64_t> rtt_ns() const {
    return srtt_ns_ ? std::optional<int64_t>(static_cast<int64_t>(*srtt_ns_)) : std::nullopt;
  }
  int64_t jitter_in_ns() const { return static_cast<int64_t>(jitter_ns_); }
  int64_t jitter_out_ns() const { return peer_jitter_ns_; }
  // The worse direction's.
  int64_t jitter_ns() const { return std::max(jitter_in_ns(), jitter_out_ns()); }
  // The worse direction's loss over the last second.
  double loss_1s(int64_t now_ns) const;

 private:
  struct Bucket {
    int64_t start_ns = -1;  // the bucket's 100 ms, or -1: unused
    Loss in, out;
  };
  Bucket& bucket(int64_t now_ns);
  Loss sum(int64_t now_ns, size_t buckets, bool inbound) const;
  void rtt_sample(int64_t rtt_ns);
  // The peer started a new epoch: what counted its old one's probes starts again.
  void peer_restarted(uint32_t epoch);

  uint32_t epoch_ = 1;
  int64_t interval_ns_ = 10'000'000;
  // What this side sent.
  uint32_t sent_sequence_ = 0;
  // What the peer sent (inbound).
  uint32_t highest_in_ = 0;
  uint32_t last_in_sequence_ = 0;
  int64_t last_in_sent_ns_ = 0, last_in_received_ns_ = 0;
  uint32_t received_count_ = 0;  // in the peer's epoch, echoed to it
  uint64_t received_total_ = 0;
  uint32_t peer_epoch_ = 0, peer_epochs_ = 0;
  int64_t peer_interval_ns_ = 0;
  int64_t peer_jitter_ns_ = 0;
  int64_t last_heard_ns_ = 0, last_confirmed_ns_ = 0;
  std::optional<int64_t> last_transit_ns_;
  double jitter_ns_ = 0;
  // What the peer says it received of ours (outbound).
  uint32_t peer_echo_sequence_ = 0, peer_received_ = 0;
  // Round trip.
  std::optional<double> srtt_ns_;
  std::array<int64_t, kRttSamples> rtt_{};
  size_t rtt_count_ = 0, rtt_next_ = 0;
  std::array<Bucket, kLossBuckets> buckets_{};
};

}  // namespace vigil::paths

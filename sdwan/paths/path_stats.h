// What the probes say about one path: round trip time (an EWMA, as TCP's srtt, and p50/p99 of
// the last 128 samples), the jitter of what arrives (RFC 3550's estimator), the loss each way
// over the last second and the last ten, and when the peer was last heard. Fed by the probes
// sent and received on the path, with the caller's clock (nanoseconds, steady), so tests script
// any sequence. Fixed size, no allocation: the lcore that owns the path keeps one per path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "sdwan/paths/probe_message.h"

namespace vigil::paths {

inline constexpr size_t kRttSamples = 128;
inline constexpr int64_t kLossBucketNs = 100'000'000;  // 100 ms
inline constexpr size_t kLossBuckets = 100;            // 10 s

struct Loss {
  uint32_t expected = 0;
  uint32_t received = 0;
  // Lost over expected, 0 to 1 (0 when nothing was expected).
  double ratio() const {
    return expected == 0 || received >= expected
               ? 0.0
               : static_cast<double>(expected - received) / expected;
  }
};

struct PathSnapshot {
  std::optional<int64_t> rtt_ns;  // EWMA; nothing before the first echo
  std::optional<int64_t> rtt_p50_ns, rtt_p99_ns;
  int64_t jitter_ns = 0;
  Loss loss_in_1s, loss_in_10s, loss_out_1s, loss_out_10s;
  int64_t last_heard_ns = 0;  // 0: never
  uint64_t sent = 0, received = 0;
};

class PathStats {
 public:
  // A probe this side sends now: its sequence number.
  uint32_t next_sequence() { return ++sent_sequence_; }
  // A probe from the peer on this path, received at `now_ns` (this side's clock).
  void received(const ProbeMessage& m, int64_t now_ns);

  // The echo fields of the next probe this side sends.
  uint32_t echo_sequence() const { return last_in_sequence_; }
  int64_t echo_sent_ns() const { return last_in_sent_ns_; }
  int64_t echo_received_ns() const { return last_in_received_ns_; }
  uint32_t received_count() const { return received_count_; }

  PathSnapshot snapshot(int64_t now_ns) const;
  int64_t last_heard_ns() const { return last_heard_ns_; }
  // What the state machine reads on every evaluation, without sorting the samples.
  std::optional<int64_t> rtt_ns() const {
    return srtt_ns_ ? std::optional<int64_t>(static_cast<int64_t>(*srtt_ns_)) : std::nullopt;
  }
  int64_t jitter_ns() const { return static_cast<int64_t>(jitter_ns_); }
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

  // What this side sent.
  uint32_t sent_sequence_ = 0;
  // What the peer sent (inbound).
  uint32_t highest_in_ = 0;
  uint32_t last_in_sequence_ = 0;
  int64_t last_in_sent_ns_ = 0, last_in_received_ns_ = 0;
  uint32_t received_count_ = 0;
  int64_t last_heard_ns_ = 0;
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

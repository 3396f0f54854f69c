#include "sdwan/paths/path_stats.h"

#include <algorithm>
#include <cmath>

namespace vigil::paths {
namespace {

// No real path delays a probe, or holds an echo, for 10 s.
constexpr int64_t kMaxPlausibleNs = 10'000'000'000;
// A jump in sequence numbers counts as at most this many probes lost (hours of them): a peer
// cannot make a window's counts wrap.
constexpr uint32_t kMaxSequenceJump = 1'000'000;
// A probe this far behind the newest (100 s at 10 ms) was not reordered: the peer started
// again under an epoch it had used (it should not; this keeps the path from being stuck).
constexpr uint32_t kRestartBehind = 10'000;

}  // namespace

PathStats::Bucket& PathStats::bucket(int64_t now_ns) {
  const int64_t start = now_ns - now_ns % kLossBucketNs;
  Bucket& b = buckets_[static_cast<size_t>(start / kLossBucketNs) % kLossBuckets];
  if (b.start_ns != start) {
    b = Bucket{.start_ns = start};  // a bucket from ten seconds ago or more: reused
  }
  return b;
}

Loss PathStats::sum(int64_t now_ns, size_t buckets, bool inbound) const {
  // The window's buckets only (each where bucket() put it), not all hundred: the classes read
  // the last second of every path every millisecond.
  const int64_t newest = now_ns - now_ns % kLossBucketNs;
  Loss total;
  for (size_t back = 0; back < buckets && back < kLossBuckets; ++back) {
    const int64_t start = newest - static_cast<int64_t>(back) * kLossBucketNs;
    if (start < 0) {
      break;
    }
    const Bucket& b = buckets_[static_cast<size_t>(start / kLossBucketNs) % kLossBuckets];
    if (b.start_ns == start) {
      const Loss& l = inbound ? b.in : b.out;
      total.expected += l.expected;
      total.received += l.received;
    }
  }
  return total;
}

void PathStats::rtt_sample(int64_t rtt_ns) {
  // TCP's smoothing (RFC 6298): an eighth of each new sample.
  srtt_ns_ = srtt_ns_ ? *srtt_ns_ + (static_cast<double>(rtt_ns) - *srtt_ns_) / 8
                      : static_cast<double>(rtt_ns);
  rtt_[rtt_next_] = rtt_ns;
  rtt_next_ = (rtt_next_ + 1) % kRttSamples;
  rtt_count_ = std::min(rtt_count_ + 1, kRttSamples);
}

ProbeMessage PathStats::probe(uint8_t link, int64_t now_ns) {
  const int64_t interval_ms = std::clamp<int64_t>(interval_ns_ / 1'000'000, 1, UINT16_MAX);
  const int64_t jitter_us = std::clamp<int64_t>(jitter_in_ns() / 1'000, 0, UINT32_MAX);
  return {.link = link,
          .interval_ms = static_cast<uint16_t>(interval_ms),
          .epoch = epoch_,
          .sequence = ++sent_sequence_,
          .sent_ns = now_ns,
          .echo_sequence = last_in_sequence_,
          .echo_sent_ns = last_in_sent_ns_,
          .echo_received_ns = last_in_received_ns_,
          .received = received_count_,
          .jitter_us = static_cast<uint32_t>(jitter_us)};
}

void PathStats::peer_restarted(uint32_t epoch) {
  peer_epoch_ = epoch;
  ++peer_epochs_;
  highest_in_ = 0;
  last_in_sequence_ = 0;
  last_in_sent_ns_ = last_in_received_ns_ = 0;
  received_count_ = 0;
  last_transit_ns_.reset();
  jitter_ns_ = 0;
  peer_echo_sequence_ = peer_received_ = 0;
}

void PathStats::received(const ProbeMessage& m, int64_t now_ns) {
  if (m.epoch != peer_epoch_ ||
      (highest_in_ > kRestartBehind && m.sequence < highest_in_ - kRestartBehind)) {
    peer_restarted(m.epoch);
  }
  Bucket& b = bucket(now_ns);
  last_heard_ns_ = now_ns;
  peer_interval_ns_ = int64_t{m.interval_ms} * 1'000'000;
  peer_jitter_ns_ = int64_t{m.jitter_us} * 1'000;
  // Inbound loss: the sequence numbers' advance is what was expected, each new one received.
  // One that comes late (reordered) was counted lost when a later one came: it counts as
  // received now, so the window's loss comes right. A duplicate or a replay of an old one is
  // not a new probe.
  if (m.sequence > highest_in_) {
    b.in.expected += highest_in_ == 0 ? 1 : std::min(m.sequence - highest_in_, kMaxSequenceJump);
    highest_in_ = m.sequence;
    // The newest is what the next probe echoes: the peer counts echoes that only grow.
    last_in_sequence_ = m.sequence;
    last_in_sent_ns_ = m.sent_ns;
    last_in_received_ns_ = now_ns;
  }
  ++b.in.received;
  ++received_count_;
  ++received_total_;
  // RFC 3550 6.4.1: the difference of transit times of consecutive probes (clock offsets
  // cancel), smoothed by 1/16. The peer's times are its own to choose (a clock stepped, or a
  // peer that lies): arithmetic that would overflow, and steps beyond any real delay, are
  // not samples.
  int64_t transit = 0;
  if (!__builtin_sub_overflow(now_ns, m.sent_ns, &transit)) {
    int64_t d = 0;
    if (last_transit_ns_ && !__builtin_sub_overflow(transit, *last_transit_ns_, &d) &&
        d > -kMaxPlausibleNs && d < kMaxPlausibleNs) {
      jitter_ns_ += (std::abs(static_cast<double>(d)) - jitter_ns_) / 16;
    }
    last_transit_ns_ = transit;
  }
  // An echo of a probe we never sent (one from before we started, which the peer had not yet
  // seen us replace) says nothing about this epoch's probes.
  if (m.echo_sequence == 0 || m.echo_sequence > sent_sequence_) {
    return;
  }
  // Round trip: since our probe left (our own clock, echoed), less the time the peer held it
  // (its clock).
  if (m.echo_sent_ns > 0 && m.echo_sent_ns <= now_ns && now_ns - m.echo_sent_ns < kMaxPlausibleNs) {
    int64_t held = 0;
    if (!__builtin_sub_overflow(m.sent_ns, m.echo_received_ns, &held) && held >= 0 &&
        held <= now_ns - m.echo_sent_ns) {
      rtt_sample(now_ns - m.echo_sent_ns - held);
    }
  }
  // Outbound loss: what the peer says it saw of ours since its last probe that echoed a newer
  // one. A probe of ours that reached it late counts in its next report: as received there, so
  // a window's sums come right (Loss::ratio() takes more received than expected as none lost).
  if (m.echo_sequence > peer_echo_sequence_) {
    last_confirmed_ns_ = now_ns;
    // It cannot have received more than we sent.
    const uint32_t received = std::min(m.received, sent_sequence_);
    if (peer_echo_sequence_ != 0) {
      b.out.expected += std::min(m.echo_sequence - peer_echo_sequence_, kMaxSequenceJump);
      b.out.received += received >= peer_received_ ? received - peer_received_ : 0;
    }
    peer_echo_sequence_ = m.echo_sequence;
    peer_received_ = received;
  }
}

double PathStats::loss_1s(int64_t now_ns) const {
  return std::max(sum(now_ns, 10, true).ratio(), sum(now_ns, 10, false).ratio());
}

PathSnapshot PathStats::snapshot(int64_t now_ns) const {
  PathSnapshot s;
  if (srtt_ns_) {
    s.rtt_ns = rtt_ns();
    std::array<int64_t, kRttSamples> sorted = rtt_;
    const auto end = sorted.begin() + static_cast<long>(rtt_count_);
    std::sort(sorted.begin(), end);
    const auto at = [&](double q) {
      return sorted[std::min(rtt_count_ - 1,
                             static_cast<size_t>(q * static_cast<double>(rtt_count_)))];
    };
    s.rtt_p50_ns = at(0.50);
    s.rtt_p99_ns = at(0.99);
  }
  s.jitter_in_ns = jitter_in_ns();
  s.jitter_out_ns = jitter_out_ns();
  s.loss_in_1s = sum(now_ns, 10, true);
  s.loss_in_10s = sum(now_ns, kLossBuckets, true);
  s.loss_out_1s = sum(now_ns, 10, false);
  s.loss_out_10s = sum(now_ns, kLossBuckets, false);
  s.last_heard_ns = last_heard_ns_;
  s.last_confirmed_ns = last_confirmed_ns_;
  s.sent = sent_sequence_;
  s.received = received_total_;
  s.peer_epochs = peer_epochs_;
  return s;
}

}  // namespace vigil::paths

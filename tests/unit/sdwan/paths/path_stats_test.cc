// What the probes say about a path, with a scripted clock: two ends exchanging probes every
// 10 ms over a path with a known delay get its round trip time whatever their clocks' offset;
// jitter follows RFC 3550 on a path whose delay alternates; sequence gaps are inbound loss and
// what the peer says it received is outbound loss, over 1 s and 10 s; reordering costs
// nothing once the late probe arrives.
#include "sdwan/paths/path_stats.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace vigil::paths {
namespace {

constexpr int64_t kMs = 1'000'000;

// One end of a path: its stats and its clock's offset from the test's time.
struct End {
  PathStats stats;
  int64_t offset_ns = 0;
  int64_t clock(int64_t t) const { return t + offset_ns; }
  ProbeMessage probe(int64_t t) { return stats.probe(0, clock(t)); }
};

// Both ends send every 10 ms for `ms`; each probe takes `delay(k)` one way; `lose(k, a_to_b)`
// drops some.
template <typename Delay, typename Lose>
void exchange(End& a, End& b, int64_t start, int ms, Delay delay, Lose lose) {
  struct InFlight {
    int64_t arrive = 0;
    ProbeMessage m;
    bool to_b = false;
  };
  std::vector<InFlight> flight;
  for (int k = 0; k * 10 < ms; ++k) {
    const int64_t t = start + int64_t{k} * 10 * kMs;
    // Deliver what arrives by now, in arrival order.
    std::stable_sort(flight.begin(), flight.end(),
                     [](const InFlight& x, const InFlight& y) { return x.arrive < y.arrive; });
    while (!flight.empty() && flight.front().arrive <= t) {
      const InFlight f = flight.front();
      flight.erase(flight.begin());
      End& to = f.to_b ? b : a;
      to.stats.received(f.m, to.clock(f.arrive));
    }
    const ProbeMessage from_a = a.probe(t);
    const ProbeMessage from_b = b.probe(t + 5 * kMs);
    if (!lose(k, true)) {
      flight.push_back({t + delay(k), from_a, true});
    }
    if (!lose(k, false)) {
      flight.push_back({t + 5 * kMs + delay(k), from_b, false});
    }
  }
}

TEST(PathStats, RoundTripIsTwiceTheDelayWhateverTheClocks) {
  End a, b;
  b.offset_ns = 987'654'321'000;  // b's clock is far from a's
  exchange(
      a, b, 1'000 * kMs, 2000, [](int) { return 20 * kMs; }, [](int, bool) { return false; });
  const PathSnapshot s = a.stats.snapshot(a.clock(3'000 * kMs));
  ASSERT_TRUE(s.rtt_ns.has_value());
  EXPECT_EQ(*s.rtt_ns, 40 * kMs);
  EXPECT_EQ(*s.rtt_p50_ns, 40 * kMs);
  EXPECT_EQ(*s.rtt_p99_ns, 40 * kMs);
  EXPECT_EQ(s.jitter_in_ns, 0);
  EXPECT_EQ(s.jitter_out_ns, 0);
  EXPECT_EQ(s.loss_in_1s.ratio(), 0.0);
  EXPECT_GE(s.loss_in_1s.expected, 85u);
  EXPECT_EQ(s.loss_out_1s.ratio(), 0.0);
  EXPECT_EQ(s.sent, 200u);
  EXPECT_GE(s.received, 195u) << "a few still in flight";
  EXPECT_EQ(*b.stats.snapshot(b.clock(3'000 * kMs)).rtt_ns, 40 * kMs) << "b measures it too";
}

TEST(PathStats, JitterFollowsRfc3550AndPercentilesTheSpread) {
  End a, b;
  // One way: 10 ms and 14 ms alternately: every transit differs from the last by 4 ms, so the
  // estimator converges on 4 ms.
  exchange(
      a, b, 0, 3000, [](int k) { return (k % 2 == 0 ? 10 : 14) * kMs; },
      [](int, bool) { return false; });
  const PathSnapshot s = b.stats.snapshot(3'000 * kMs);
  EXPECT_NEAR(static_cast<double>(s.jitter_in_ns), 4.0 * kMs, 0.05 * kMs);
  // a learns the jitter of its own probes from b's reports (to the microsecond).
  EXPECT_NEAR(static_cast<double>(a.stats.snapshot(3'000 * kMs).jitter_out_ns), 4.0 * kMs,
              0.05 * kMs);
  // Round trips are 20, 24 or 28 ms.
  EXPECT_GE(*s.rtt_p50_ns, 20 * kMs);
  EXPECT_LE(*s.rtt_p50_ns, 28 * kMs);
  EXPECT_GE(*s.rtt_p99_ns, *s.rtt_p50_ns);
  EXPECT_LE(*s.rtt_p99_ns, 28 * kMs);
}

TEST(PathStats, LossEachWayOverOneAndTenSeconds) {
  End a, b;
  // For 10 s: a to b loses one probe in ten; b to a loses nothing. Then 1 s clean.
  exchange(
      a, b, 0, 10'000, [](int) { return 5 * kMs; },
      [](int k, bool a_to_b) { return a_to_b && k % 10 == 3; });
  const PathSnapshot at_b = b.stats.snapshot(10'000 * kMs);
  EXPECT_NEAR(at_b.loss_in_10s.ratio(), 0.10, 0.01);
  EXPECT_NEAR(at_b.loss_in_1s.ratio(), 0.10, 0.02);
  EXPECT_EQ(at_b.loss_out_10s.ratio(), 0.0);
  const PathSnapshot at_a = a.stats.snapshot(10'000 * kMs);
  EXPECT_NEAR(at_a.loss_out_10s.ratio(), 0.10, 0.02) << "what b says it received";
  EXPECT_EQ(at_a.loss_in_10s.ratio(), 0.0);
  EXPECT_NEAR(a.stats.loss_1s(10'000 * kMs), 0.10, 0.03) << "the worse direction";

  exchange(
      a, b, 10'000 * kMs, 1'500, [](int) { return 5 * kMs; }, [](int, bool) { return false; });
  EXPECT_EQ(b.stats.snapshot(11'500 * kMs).loss_in_1s.ratio(), 0.0) << "the last second clean";
  EXPECT_GT(b.stats.snapshot(11'500 * kMs).loss_in_10s.ratio(), 0.05) << "ten seconds remember";
  EXPECT_EQ(b.stats.snapshot(25'000 * kMs).loss_in_10s.expected, 0u) << "and then forget";
}

TEST(PathStats, AProbeThatComesLateIsNotLost) {
  PathStats s;
  const auto probe = [](uint32_t seq, int64_t sent) {
    return ProbeMessage{.sequence = seq, .sent_ns = sent};
  };
  s.received(probe(1, 0), 5 * kMs);
  s.received(probe(3, 20 * kMs), 25 * kMs);  // 2 is late
  s.received(probe(2, 10 * kMs), 26 * kMs);
  s.received(probe(4, 30 * kMs), 35 * kMs);
  const PathSnapshot snap = s.snapshot(40 * kMs);
  EXPECT_EQ(snap.loss_in_1s.expected, 4u);
  EXPECT_EQ(snap.loss_in_1s.received, 4u);
  EXPECT_EQ(s.probe(0, 40 * kMs).echo_sequence, 4u) << "echoes only grow";
  EXPECT_EQ(snap.last_heard_ns, 35 * kMs);
  EXPECT_FALSE(snap.rtt_ns.has_value()) << "no echo yet";
}

TEST(PathStats, APeersImpossibleTimesAndSequencesAreNotSamples) {
  // The peer chooses its times and counters (a stepped clock, or a lie): nothing overflows
  // (the fuzz target found one), and nothing impossible becomes a sample.
  PathStats s;
  const int64_t now = 50'000 * kMs;
  for (int k = 0; k < 4; ++k) {
    (void)s.probe(0, now - (10 - k) * kMs);  // what the echoes below name
  }
  s.received({.sequence = 1, .sent_ns = INT64_MIN}, now);
  s.received({.sequence = 2,
              .sent_ns = INT64_MAX,
              .echo_sequence = 1,
              .echo_sent_ns = INT64_MIN,
              .echo_received_ns = INT64_MAX},
             now + kMs);
  s.received({.sequence = 3,
              .sent_ns = now,
              .echo_sequence = 2,
              .echo_sent_ns = now + 5 * kMs,  // "sent" in our future
              .echo_received_ns = now},
             now + 2 * kMs);
  s.received({.sequence = 4,
              .sent_ns = now,
              .echo_sequence = 3,
              .echo_sent_ns = now - 20'000 * kMs,  // 20 s ago: no path is that slow
              .echo_received_ns = now},
             now + 3 * kMs);
  EXPECT_FALSE(s.rtt_ns().has_value());
  EXPECT_LT(s.jitter_ns(), 1'000 * kMs);
  // A jump of four billion in the sequence counts as a bounded loss, not a wrapped count.
  s.received({.sequence = 0xfffffff0, .sent_ns = now}, now + 4 * kMs);
  const PathSnapshot snap = s.snapshot(now + 5 * kMs);
  EXPECT_LE(snap.loss_in_1s.expected, 1'000'010u);
  EXPECT_GT(snap.loss_in_1s.ratio(), 0.99);
  EXPECT_LE(snap.loss_in_1s.ratio(), 1.0);
}

TEST(PathStats, OurProbesThatArriveLateAreNotOutboundLoss) {
  // b receives a's probes 1, 3, 2, 4: its reports echo 1 (received 1), then 3 (received 2),
  // then 4 (received 4). Counted report by report, 2 looked lost at the second; over the window
  // nothing is.
  PathStats a;
  for (int k = 0; k < 4; ++k) {
    (void)a.probe(0, int64_t{k} * 10 * kMs);
  }
  const auto report = [](uint32_t seq, uint32_t echo, uint32_t received) {
    return ProbeMessage{.sequence = seq, .sent_ns = 0, .echo_sequence = echo, .received = received};
  };
  a.received(report(1, 1, 1), 15 * kMs);
  a.received(report(2, 3, 2), 35 * kMs);
  a.received(report(3, 4, 4), 45 * kMs);
  const PathSnapshot snap = a.snapshot(50 * kMs);
  EXPECT_EQ(snap.loss_out_1s.expected, 3u);
  EXPECT_EQ(snap.loss_out_1s.ratio(), 0.0);
}

TEST(PathStats, AnEchoOfAProbeWeNeverSentIsIgnored) {
  // The peer still echoes our previous run's sequence 5000; this run has sent 2.
  PathStats a;
  (void)a.probe(0, 0);
  (void)a.probe(0, 10 * kMs);
  a.received({.sequence = 1, .sent_ns = 0, .echo_sequence = 5000, .echo_sent_ns = 1, .received = 9},
             15 * kMs);
  EXPECT_EQ(a.last_confirmed_ns(), 0);
  EXPECT_EQ(a.last_heard_ns(), 15 * kMs);
  // Then it sees this run's probes, and its echoes confirm the path.
  a.received({.sequence = 2,
              .sent_ns = 0,
              .echo_sequence = 2,
              .echo_sent_ns = 10 * kMs,
              .echo_received_ns = 0,
              .received = 2},
             25 * kMs);
  EXPECT_EQ(a.last_confirmed_ns(), 25 * kMs);
}

TEST(PathStats, APeerThatStartsAgainIsMeasuredAgain) {
  End a, b;
  exchange(
      a, b, 0, 1'000, [](int) { return 5 * kMs; }, [](int, bool) { return false; });
  // b restarts: a new epoch, its sequence numbers and counts from the start.
  b.stats = PathStats(2, 10 * kMs);
  exchange(
      a, b, 1'000 * kMs, 1'000, [](int) { return 5 * kMs; }, [](int, bool) { return false; });
  const PathSnapshot at_a = a.stats.snapshot(2'000 * kMs);
  EXPECT_EQ(at_a.peer_epochs, 2u);
  EXPECT_EQ(at_a.loss_in_1s.ratio(), 0.0) << "sequence 1 again is not a replay";
  EXPECT_EQ(at_a.loss_out_1s.ratio(), 0.0);
  EXPECT_GE(at_a.last_confirmed_ns, 1'990 * kMs) << "b's echoes confirm the path again";
  ASSERT_TRUE(b.stats.snapshot(2'000 * kMs).rtt_ns.has_value()) << "b measures again";
}

TEST(PathStats, ASequenceFarBehindUnderTheSameEpochIsARestart) {
  // A peer that started again without a new epoch (it should not): its sequence numbers from 1
  // are not old probes for ever.
  PathStats s;
  s.received({.sequence = 50'000, .sent_ns = 0}, kMs);
  s.received({.sequence = 1, .sent_ns = 0}, 2 * kMs);
  s.received({.sequence = 2, .sent_ns = 0}, 3 * kMs);
  EXPECT_EQ(s.probe(0, 4 * kMs).echo_sequence, 2u);
  EXPECT_EQ(s.snapshot(4 * kMs).peer_epochs, 2u);
  // Reordering is not a restart.
  s.received({.sequence = 100, .sent_ns = 0}, 5 * kMs);
  s.received({.sequence = 90, .sent_ns = 0}, 6 * kMs);
  EXPECT_EQ(s.snapshot(6 * kMs).peer_epochs, 2u);
}

TEST(PathStats, TheIntervalAndJitterTheProbeCarries) {
  PathStats s(7, 50 * kMs);
  const ProbeMessage m = s.probe(3, 100 * kMs);
  EXPECT_EQ(m.link, 3);
  EXPECT_EQ(m.epoch, 7u);
  EXPECT_EQ(m.interval_ms, 50);
  EXPECT_EQ(m.sequence, 1u);
  PathStats peer;
  peer.received(m, 120 * kMs);
  EXPECT_EQ(peer.peer_interval_ns(), 50 * kMs);
}

}  // namespace
}  // namespace vigil::paths

// What probing costs one core: 100 paths probed every 10 ms both ways, as the lcore that owns
// their peers will run it (sdwan/paths/PeerPaths: the due probes made and encoded, the
// peer's probes decoded and taken into the statistics, every path's state evaluated each
// millisecond), and the tunnel's part (each 40-byte probe sealed, and the peer's opened, by
// wg::TransportSession). Simulated time, measured CPU time of this thread, which does both
// sites' work: the figure is CPU seconds per second of probing for one site (half of it), the
// share of one core that 100 paths take there.
//
//   build/bench/probe_cost_bench [--paths N] [--seconds S] [--rounds R] [--smoke]
//
// No I/O and no packet building beyond the probe's own bytes: the share a lab measures on a
// running vigil-dp also has its mbufs and ports, which is the lab figure, not this one.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench/thread_cpu.h"
#include "sdwan/paths/peer_paths.h"
#include "sdwan/wireguard/transport.h"
#include "tests/support/wg_session_pair.h"

namespace {

using namespace vigil::paths;

using vigil::bench::median;
using Clock = vigil::bench::ThreadCpuClock;

struct Cost {
  double cpu_share;  // CPU seconds per second of probing
  uint64_t probes;   // sent, both ends
  uint64_t changes;  // state changes seen (none expected: every path stays up)
};

// `paths` paths between two ends (16 paths a peer, as many peers as that takes), `seconds` of
// probing at 10 ms, a millisecond at a time; every probe arrives 1 ms later.
Cost run(size_t paths, double seconds, bool with_crypto) {
  const size_t peers = (paths + kMaxPaths - 1) / kMaxPaths;
  std::vector<PeerPaths> a(peers, PeerPaths(PathTiming{}, PathSla{.max_loss = 0.5}));
  std::vector<PeerPaths> b(peers, PeerPaths(PathTiming{}, PathSla{.max_loss = 0.5}));
  for (size_t p = 0; p < peers; ++p) {
    std::vector<PathKey> keys;
    for (size_t k = 0; k < kMaxPaths && p * kMaxPaths + k < paths; ++k) {
      keys.push_back({.link = static_cast<uint8_t>(k), .endpoint = 0});
    }
    a[p].set_paths(keys);
    b[p].set_paths(keys);
  }
  const auto [ka, kb] = vigil::test::wg_session_pair();
  vigil::wg::TransportSession seal_a(ka), open_b(kb);
  struct InFlight {
    size_t peer, path;
    std::array<uint8_t, vigil::wg::sealed_size(kProbeSize)> datagram;
    size_t length;
    bool to_b;
  };
  std::vector<InFlight> flight, next;
  flight.reserve(2 * paths);
  next.reserve(2 * paths);
  std::array<uint16_t, kMaxPaths> due{};
  std::array<PathEvent, kMaxPaths> events{};
  std::array<uint8_t, vigil::wg::sealed_size(kProbeSize)> opened{};
  Cost cost{};
  const int64_t steps = static_cast<int64_t>(seconds * 1000);
  const auto start = Clock::now();
  int64_t now = 1'000'000'000;
  for (int64_t step = 0; step < steps; ++step, now += 1'000'000) {
    // What was sent a millisecond ago arrives.
    for (InFlight& f : flight) {
      std::span<const uint8_t> body(f.datagram.data(), f.length);
      size_t inner = f.length;
      if (with_crypto) {
        // Both directions opened with B's session: the cost is the same, the keys are not.
        if (open_b.open(body, opened, inner) != vigil::wg::OpenResult::kOk) {
          std::abort();
        }
        body = std::span<const uint8_t>(opened.data(), inner);
      }
      const auto m = decode(body);
      if (!m) {
        std::abort();
      }
      (f.to_b ? b : a)[f.peer].received(f.path, *m, now);
    }
    flight.clear();
    for (bool from_a : {true, false}) {
      auto& ends = from_a ? a : b;
      for (size_t p = 0; p < peers; ++p) {
        const size_t n = ends[p].due(now, due);
        for (size_t k = 0; k < n; ++k) {
          std::array<uint8_t, kProbeSize> bytes{};
          encode(ends[p].probe(due[k], now), bytes);
          InFlight f{
              .peer = p, .path = due[k], .datagram = {}, .length = kProbeSize, .to_b = from_a};
          if (with_crypto) {
            f.length = seal_a.seal(bytes, f.datagram);
          } else {
            std::copy(bytes.begin(), bytes.end(), f.datagram.begin());
          }
          flight.push_back(f);
          ++cost.probes;
        }
        cost.changes += ends[p].evaluate(now, events);
      }
    }
  }
  const double cpu = std::chrono::duration<double>(Clock::now() - start).count();
  cost.cpu_share = cpu / seconds / 2;  // both ends ran here
  return cost;
}

}  // namespace

int main(int argc, char** argv) {
  size_t paths = 100;
  double seconds = 20;
  int rounds = 5;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--paths" && i + 1 < argc) {
      paths = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: probe_cost_bench [--paths N] [--seconds S] [--rounds R] [--smoke]\n";
      return 64;
    }
  }
  if (smoke) {
    const Cost c = run(8, 0.5, true);
    std::printf("{\"smoke\": true, \"probes\": %llu, \"changes\": %llu}\n",
                static_cast<unsigned long long>(c.probes),
                static_cast<unsigned long long>(c.changes));
    // Every path comes up once (its first three probes) and stays up.
    return c.probes > 0 && c.changes == 2 * 8 ? 0 : 1;
  }
  std::vector<double> logic, tunnel;
  uint64_t probes = 0;
  for (int r = 0; r < rounds; ++r) {
    logic.push_back(run(paths, seconds, false).cpu_share);
    const Cost c = run(paths, seconds, true);
    tunnel.push_back(c.cpu_share);
    probes = c.probes;
  }
  std::printf(
      "{\"paths\": %zu, \"interval_ms\": 10, \"simulated_seconds\": %.0f, \"rounds\": %d,\n"
      " \"probes_per_round\": %llu,\n"
      " \"site_core_share_paths_logic\": %.4f,"
      " \"site_core_share_with_sealing_and_opening\": %.4f}\n",
      paths, seconds, rounds, static_cast<unsigned long long>(probes), median(logic),
      median(tunnel));
  return 0;
}

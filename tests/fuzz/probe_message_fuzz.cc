// Fuzzes the probe parser and what a path's statistics and state machine do with whatever it
// accepts: nothing may crash or read out of bounds, a decoded probe encodes back to the same
// bytes, and no sequence of probes (any sequence numbers, any timestamps) breaks the state
// machine.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "sdwan/paths/path_monitor.h"
#include "sdwan/paths/probe_message.h"

using namespace vigil::paths;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static PathStats stats;
  static PathMonitor monitor(PathTiming{}, PathSla{.max_rtt_ns = 100'000'000, .max_loss = 0.05});
  static int64_t now = 1'000'000'000;
  const std::span<const uint8_t> in(data, size);
  const auto m = decode(in);
  if (!m) {
    return 0;
  }
  std::array<uint8_t, kProbeSize> again{};
  encode(*m, again);
  if (std::memcmp(again.data(), data, kProbeSize) != 0) {
    std::abort();  // what was accepted must be what it says
  }
  now += 10'000'000;
  stats.received(*m, now);
  (void)monitor.evaluate(stats, now);
  const PathSnapshot s = stats.snapshot(now);
  if (s.loss_in_1s.ratio() < 0 || s.loss_in_1s.ratio() > 1 || s.loss_out_10s.ratio() > 1) {
    std::abort();
  }
  return 0;
}

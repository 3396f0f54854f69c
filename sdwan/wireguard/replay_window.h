// The receive side's replay protection (RFC 6479's sliding window, as WireGuard uses it):
// a counter is taken once, never again, and only if it is at most kWindow behind the highest
// taken so far. Single-writer: the lcore that owns the session; no locks, no allocation.
#pragma once

#include <array>
#include <cstdint>

namespace vigil::wg {

class ReplayWindow {
 public:
  static constexpr uint64_t kBlockBits = 64;
  // As the Linux module and wireguard-go (8,128 behind): a peer's paths share one session, and a
  // backup path slower than the active one by more than the window would see its packets
  // refused as replays (1 KiB a session).
  static constexpr uint64_t kBlocks = 128;  // the window and one block being overwritten
  static constexpr uint64_t kWindow = (kBlocks - 1) * kBlockBits;  // 8,128 counters behind

  // Whether `counter` is new and within the window (and, if so, takes it). Counters at or
  // past `limit` (REJECT_AFTER_MESSAGES) are refused.
  bool take(uint64_t counter, uint64_t limit);

 private:
  std::array<uint64_t, kBlocks> bits_{};
  uint64_t highest_ = 0;
  bool any_ = false;
};

}  // namespace vigil::wg

#include "sdwan/wireguard/replay_window.h"

#include <algorithm>

namespace vigil::wg {

bool ReplayWindow::take(uint64_t counter, uint64_t limit) {
  if (counter >= limit) {
    return false;
  }
  const uint64_t block = counter / kBlockBits;
  if (!any_ || counter > highest_) {
    if (any_) {
      // Forward: the blocks skipped over are cleared (at most the whole ring). The first
      // counter needs none: nothing was set yet.
      const uint64_t current = highest_ / kBlockBits;
      const uint64_t skipped = std::min(block - current, kBlocks);
      for (uint64_t i = 1; i <= skipped; ++i) {
        bits_[(current + i) % kBlocks] = 0;
      }
    }
    highest_ = counter;
    any_ = true;
  } else if (highest_ - counter > kWindow) {
    return false;  // too old to tell whether it was seen
  }
  uint64_t& word = bits_[block % kBlocks];
  const uint64_t bit = uint64_t{1} << (counter % kBlockBits);
  if ((word & bit) != 0) {
    return false;  // seen
  }
  word |= bit;
  return true;
}

}  // namespace vigil::wg

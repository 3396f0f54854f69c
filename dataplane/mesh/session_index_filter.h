// Which session indexes may be live, for the lcores to check before passing a transport
// message to another lcore: counts in 65,536 buckets by a hash of the index, written by the
// control thread alone (an index counted before any packet can use it, uncounted once no lcore
// holds its session) and read by every lcore with relaxed loads (plain loads on x86). A
// forged index is then dropped where it lands, as with one lcore, instead of costing the
// owner's inbox room that real traffic needs; one in a hundred or so (768 live indexes at
// most) passes and is dropped by the owner.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace vigil::dp {

class SessionIndexFilter {
 public:
  void add(uint32_t index) { bump(index, +1); }
  void remove(uint32_t index) { bump(index, -1); }
  bool may_hold(uint32_t index) const {
    return counts_[bucket(index)].load(std::memory_order_relaxed) != 0;
  }

 private:
  // Fibonacci hashing: the low bits (the owner's shard) and the high ones both count.
  static size_t bucket(uint32_t index) { return (index * 2654435769u) >> 16; }
  void bump(uint32_t index, int by) {
    std::atomic<uint16_t>& c = counts_[bucket(index)];
    c.store(static_cast<uint16_t>(c.load(std::memory_order_relaxed) + by),
            std::memory_order_relaxed);
  }

  std::array<std::atomic<uint16_t>, 65536> counts_{};
};

}  // namespace vigil::dp

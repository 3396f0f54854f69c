// Adjacencies: the resolved MAC of each gateway that routes point at, one 64-bit word per
// gateway that an lcore reads with a single load. A route's next hop names its adjacency, so
// packets to a gateway (nearly all the transit traffic of an edge box) skip the neighbour
// hash; only destinations on a connected subnet are looked up by address.
//
// Slots belong to the control thread. A route table acquires one per (port, gateway) when it
// makes a next-hop group and releases it when it retires the group, which it does after an
// RCU grace period, so no lcore still holds the id when a later acquire reuses the slot. The
// neighbour table writes the word whenever it learns, changes or forgets that address.
#pragma once

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "dataplane/forwarding/neighbour_key.h"

namespace vigil::dp {

// What a route table needs of the neighbours (NeighbourTable; fakes in tests).
class AdjacencyProvider {
 public:
  virtual ~AdjacencyProvider() = default;
  // The slot of `key`, shared by every group that uses it, already holding the MAC if the
  // address is known. kNoAdjacency when every slot is taken: the packets then take the
  // hash lookup, slower but correct.
  virtual AdjacencyId acquire_adjacency(const NeighbourKey& key) = 0;
  virtual void release_adjacency(AdjacencyId id) = 0;
};

class AdjacencyTable {
 public:
  explicit AdjacencyTable(uint32_t capacity);

  // Lcores: the MAC of `id`, if resolved.
  bool lookup(AdjacencyId id, rte_ether_addr* mac) const {
    const uint64_t word = words_[id].load(std::memory_order_relaxed);
    if ((word & kResolved) == 0) {
      return false;
    }
    std::memcpy(mac->addr_bytes, &word, RTE_ETHER_ADDR_LEN);
    return true;
  }

  // Control thread. `mac` is what is known of `key` now, if anything.
  AdjacencyId acquire(const NeighbourKey& key, const rte_ether_addr* mac);
  void release(AdjacencyId id);
  // The address of `key` was learnt (or changed) or forgotten; nothing if no route uses it.
  void resolve(const NeighbourKey& key, const rte_ether_addr& mac);
  void unresolve(const NeighbourKey& key);
  size_t in_use() const { return slots_.size(); }
  uint32_t capacity() const { return capacity_; }

 private:
  static constexpr uint64_t kResolved = uint64_t{1} << 63;
  static uint64_t word_of(const rte_ether_addr& mac);
  struct Slot {
    AdjacencyId id;
    uint32_t refs;
  };

  uint32_t capacity_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::map<NeighbourKey, Slot> slots_;
  std::vector<NeighbourKey> key_of_;  // by id
  std::vector<AdjacencyId> free_;
  AdjacencyId next_unused_ = 0;
};

}  // namespace vigil::dp

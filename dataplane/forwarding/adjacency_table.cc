#include "dataplane/forwarding/adjacency_table.h"

namespace vigil::dp {

AdjacencyTable::AdjacencyTable(uint32_t capacity)
    : capacity_(capacity),
      words_(std::make_unique<std::atomic<uint64_t>[]>(capacity)),
      key_of_(capacity) {}

uint64_t AdjacencyTable::word_of(const rte_ether_addr& mac) {
  uint64_t word = 0;
  std::memcpy(&word, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  return word | kResolved;
}

AdjacencyId AdjacencyTable::acquire(const NeighbourKey& key, const rte_ether_addr* mac) {
  if (auto it = slots_.find(key); it != slots_.end()) {
    ++it->second.refs;
    return it->second.id;
  }
  AdjacencyId id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (next_unused_ < capacity_) {
    id = next_unused_++;
  } else {
    return kNoAdjacency;
  }
  words_[id].store(mac != nullptr ? word_of(*mac) : 0, std::memory_order_relaxed);
  key_of_[id] = key;
  slots_.emplace(key, Slot{.id = id, .refs = 1});
  return id;
}

void AdjacencyTable::release(AdjacencyId id) {
  auto it = slots_.find(key_of_[id]);
  if (it == slots_.end() || it->second.id != id || --it->second.refs > 0) {
    return;
  }
  slots_.erase(it);
  words_[id].store(0, std::memory_order_relaxed);
  free_.push_back(id);
}

void AdjacencyTable::resolve(const NeighbourKey& key, const rte_ether_addr& mac) {
  if (auto it = slots_.find(key); it != slots_.end()) {
    words_[it->second.id].store(word_of(mac), std::memory_order_relaxed);
  }
}

void AdjacencyTable::unresolve(const NeighbourKey& key) {
  if (auto it = slots_.find(key); it != slots_.end()) {
    words_[it->second.id].store(0, std::memory_order_relaxed);
  }
}

}  // namespace vigil::dp

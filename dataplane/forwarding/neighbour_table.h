// Link-layer addresses of next hops, per port. Lcores read it lock-free (rte_hash with
// lock-free reader/writer concurrency; the MAC is the entry's 64-bit data word, replaced
// atomically); only the control thread writes. A lcore that misses asks for resolution over a
// multi-producer ring; the control thread resolves (ARP/ND through the kernel, or static
// entries) and writes the answer here.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/adjacency_table.h"
#include "dataplane/forwarding/neighbour_key.h"
#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/route_table.h"

struct rte_hash;
struct rte_ring;

namespace vigil::dp {

class NeighbourTable final : public AdjacencyProvider {
 public:
  static Expected<std::unique_ptr<NeighbourTable>> create(const std::string& name,
                                                          uint32_t capacity, Synchronizer& readers);
  ~NeighbourTable() override;
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  // Lcores.
  bool lookup(const NeighbourKey& key, rte_ether_addr* mac) const;
  // Up to 64 keys at once (rte_hash's bulk path: hashes and bucket reads overlap); bit i of
  // the result is set when keys[i] was found, and macs[i] is then its MAC.
  uint64_t lookup_bulk(const NeighbourKey** keys, uint32_t n, rte_ether_addr* macs) const;
  // The MAC of a route's gateway by its adjacency: one load, no hashing.
  bool lookup(AdjacencyId id, rte_ether_addr* mac) const { return adjacencies_.lookup(id, mac); }
  // Asks the control thread to resolve `key`. When the ring is full the request is lost and
  // the packets waiting for `key` expire (no_neighbour); the first packet after them asks
  // again.
  void request(const NeighbourKey& key);

  // Control thread.
  Status set(const NeighbourKey& key, const rte_ether_addr& mac);
  void remove(const NeighbourKey& key);
  // Pending requests, oldest first, at most `max`; duplicates are the caller's to fold.
  std::vector<NeighbourKey> take_requests(size_t max);
  // Called on the control thread when a known next hop's MAC changed (with the MAC it had and
  // the one it has) or it was removed (the new one null); a new neighbour changes nothing
  // already decided. Flows offloaded to XDP to the old MAC must be decided again.
  using Changed = std::function<void(const NeighbourKey&, const rte_ether_addr& before,
                                     const rte_ether_addr* after)>;
  void on_change(Changed changed) { changed_ = std::move(changed); }
  std::vector<std::pair<NeighbourKey, rte_ether_addr>> entries() const;
  AdjacencyId acquire_adjacency(const NeighbourKey& key) override;
  void release_adjacency(AdjacencyId id) override { adjacencies_.release(id); }
  const AdjacencyTable& adjacencies() const { return adjacencies_; }

 private:
  NeighbourTable(rte_hash* hash, rte_ring* requests, Synchronizer& readers, uint32_t capacity)
      : hash_(hash), requests_(requests), readers_(readers), adjacencies_(capacity) {}
  rte_hash* hash_;
  rte_ring* requests_;
  Synchronizer& readers_;
  AdjacencyTable adjacencies_;  // as many slots as the table has entries
  bool warned_full_ = false;
  Changed changed_;
};

}  // namespace vigil::dp

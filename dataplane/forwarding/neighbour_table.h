// Link-layer addresses of next hops, per port. Lcores read it lock-free (rte_hash with
// lock-free reader/writer concurrency; the MAC is the entry's 64-bit data word, replaced
// atomically); only the control thread writes. A lcore that misses asks for resolution over a
// multi-producer ring; the control thread resolves (ARP/ND through the kernel, or static
// entries) and writes the answer here.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/route_table.h"

struct rte_hash;
struct rte_ring;

namespace vigil::dp {

// 32 bytes, so rte_hash compares keys with its vector 32-byte compare instead of memcmp.
struct NeighbourKey {
  uint8_t address[16] = {};  // IPv4 in the first 4 bytes, the rest zero
  PortId port = 0;
  uint8_t family = 4;
  uint8_t pad[13] = {};  // hashed with the rest: must stay zero
  bool operator==(const NeighbourKey&) const = default;

  static NeighbourKey v4(PortId port, uint32_t address_be);
  static NeighbourKey v6(PortId port, const uint8_t* address);
  static NeighbourKey from(PortId port, const config::IpAddress& address);
  config::IpAddress ip() const;
};
static_assert(sizeof(NeighbourKey) == 32);

class NeighbourTable {
 public:
  static Expected<std::unique_ptr<NeighbourTable>> create(const std::string& name,
                                                          uint32_t capacity, Synchronizer& readers);
  ~NeighbourTable();
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  // Lcores.
  bool lookup(const NeighbourKey& key, rte_ether_addr* mac) const;
  // Up to 64 keys at once (rte_hash's bulk path: hashes and bucket reads overlap); bit i of
  // the result is set when keys[i] was found, and macs[i] is then its MAC.
  uint64_t lookup_bulk(const NeighbourKey** keys, uint32_t n, rte_ether_addr* macs) const;
  // Asks the control thread to resolve `key`. When the ring is full the request is lost and
  // the packets waiting for `key` expire (no_neighbour); the first packet after them asks
  // again.
  void request(const NeighbourKey& key);

  // Control thread.
  Status set(const NeighbourKey& key, const rte_ether_addr& mac);
  void remove(const NeighbourKey& key);
  // Pending requests, oldest first, at most `max`; duplicates are the caller's to fold.
  std::vector<NeighbourKey> take_requests(size_t max);
  std::vector<std::pair<NeighbourKey, rte_ether_addr>> entries() const;

 private:
  NeighbourTable(rte_hash* hash, rte_ring* requests, Synchronizer& readers)
      : hash_(hash), requests_(requests), readers_(readers) {}
  rte_hash* hash_;
  rte_ring* requests_;
  Synchronizer& readers_;
};

}  // namespace vigil::dp

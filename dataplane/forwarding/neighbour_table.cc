#include "dataplane/forwarding/neighbour_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstring>

#include "common/logging.h"

namespace vigil::dp {
namespace {

constexpr uint32_t kRequestRing = 1024;

uint64_t pack(const rte_ether_addr& mac) {
  uint64_t word = 0;
  std::memcpy(&word, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  return word;
}

rte_ether_addr unpack(uint64_t word) {
  rte_ether_addr mac;
  std::memcpy(mac.addr_bytes, &word, RTE_ETHER_ADDR_LEN);
  return mac;
}

}  // namespace

Expected<std::unique_ptr<NeighbourTable>> NeighbourTable::create(const std::string& name,
                                                                 uint32_t capacity,
                                                                 Synchronizer& readers) {
  const std::string hash_name = name + "_nh";
  rte_hash_parameters params{};
  params.name = hash_name.c_str();
  params.entries = capacity;
  params.key_len = sizeof(NeighbourKey);
  params.hash_func = rte_hash_crc;  // SSE4.2 CRC32: a few instructions for 32 bytes
  params.socket_id = SOCKET_ID_ANY;
  // Readers never lock; a deleted key's slot is only reused after a grace period (remove()).
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
  rte_hash* hash = rte_hash_create(&params);
  if (hash == nullptr) {
    return fail("cannot create the neighbour table: " + std::string(rte_strerror(rte_errno)));
  }
  rte_ring* ring = rte_ring_create_elem((name + "_nhq").c_str(), sizeof(NeighbourKey), kRequestRing,
                                        SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (ring == nullptr) {
    const int code = rte_errno;
    rte_hash_free(hash);
    return fail("cannot create the neighbour request ring: " + std::string(rte_strerror(code)));
  }
  return std::unique_ptr<NeighbourTable>(new NeighbourTable(hash, ring, readers, capacity));
}

NeighbourTable::~NeighbourTable() {
  rte_hash_free(hash_);
  rte_ring_free(requests_);
}

bool NeighbourTable::lookup(const NeighbourKey& key, rte_ether_addr* mac) const {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) {
    return false;
  }
  *mac = unpack(reinterpret_cast<uintptr_t>(data));
  return true;
}

uint64_t NeighbourTable::lookup_bulk(const NeighbourKey** keys, uint32_t n,
                                     rte_ether_addr* macs) const {
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  uint64_t hits = 0;
  if (rte_hash_lookup_bulk_data(hash_, reinterpret_cast<const void**>(keys), n, &hits, data) <= 0) {
    return 0;
  }
  for (uint64_t left = hits; left != 0; left &= left - 1) {
    const int i = __builtin_ctzll(left);
    macs[i] = unpack(reinterpret_cast<uintptr_t>(data[i]));
  }
  return hits;
}

void NeighbourTable::request(const NeighbourKey& key) {
  (void)rte_ring_mp_enqueue_elem(requests_, const_cast<NeighbourKey*>(&key), sizeof(key));
}

Status NeighbourTable::set(const NeighbourKey& key, const rte_ether_addr& mac) {
  rte_ether_addr before;
  const bool moved = lookup(key, &before) && !rte_is_same_ether_addr(&before, &mac);
  // An existing key's data is replaced with one atomic store: readers see the old or new MAC.
  const int rc = rte_hash_add_key_data(hash_, &key,
                                       reinterpret_cast<void*>(static_cast<uintptr_t>(pack(mac))));
  if (rc != 0) {
    return fail("neighbour table full (" + key.ip().to_string() + ")");
  }
  adjacencies_.resolve(key, mac);
  if (moved && changed_) {
    changed_(key, before, &mac);
  }
  return Ok{};
}

void NeighbourTable::remove(const NeighbourKey& key) {
  rte_ether_addr before;
  const bool known = lookup(key, &before);
  adjacencies_.unresolve(key);
  const int32_t position = rte_hash_del_key(hash_, &key);
  if (position < 0) {
    return;
  }
  if (known && changed_) {
    changed_(key, before, nullptr);
  }
  readers_.wait_for_readers();
  rte_hash_free_key_with_position(hash_, position);
}

AdjacencyId NeighbourTable::acquire_adjacency(const NeighbourKey& key) {
  rte_ether_addr mac;
  const AdjacencyId id = adjacencies_.acquire(key, lookup(key, &mac) ? &mac : nullptr);
  if (id == kNoAdjacency && !warned_full_) {
    // Still forwarded, by the slower hash lookup; said once until a slot is had again.
    log::warn(
        "adjacency table full: packets to further gateways are looked up by address",
        {{"gateway", key.ip().to_string()}, {"capacity", std::to_string(adjacencies_.capacity())}});
  }
  warned_full_ = id == kNoAdjacency;
  return id;
}

std::vector<NeighbourKey> NeighbourTable::take_requests(size_t max) {
  std::vector<NeighbourKey> keys(max);
  const unsigned n = rte_ring_sc_dequeue_burst_elem(requests_, keys.data(), sizeof(NeighbourKey),
                                                    static_cast<unsigned>(max), nullptr);
  keys.resize(n);
  return keys;
}

std::vector<std::pair<NeighbourKey, rte_ether_addr>> NeighbourTable::entries() const {
  std::vector<std::pair<NeighbourKey, rte_ether_addr>> out;
  const void* key = nullptr;
  void* data = nullptr;
  uint32_t next = 0;
  while (rte_hash_iterate(hash_, &key, &data, &next) >= 0) {
    out.emplace_back(*static_cast<const NeighbourKey*>(key),
                     unpack(reinterpret_cast<uintptr_t>(data)));
  }
  return out;
}

}  // namespace vigil::dp

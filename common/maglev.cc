#include "common/maglev.h"

#include <algorithm>
#include <stdexcept>

namespace vigil {
namespace {

// FNV-1a over the key, then splitmix64's finaliser: cheap, portable, well mixed.
uint64_t hash_key(const std::string& key, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (const char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

struct Walker {
  uint64_t offset;
  uint64_t skip;
  uint64_t next = 0;  // position in this backend's permutation
  uint64_t turns = 0;
};

}  // namespace

bool is_prime(uint32_t n) {
  if (n < 2) {
    return false;
  }
  for (uint32_t d = 2; static_cast<uint64_t>(d) * d <= n; ++d) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

std::vector<uint32_t> build_maglev_table(std::span<const MaglevBackend> backends,
                                         uint32_t table_size, uint32_t seed) {
  if (!is_prime(table_size)) {
    throw std::invalid_argument("Maglev table size must be prime");
  }
  uint32_t max_weight = 0;
  for (const auto& b : backends) {
    max_weight = std::max(max_weight, b.weight);
  }
  if (max_weight == 0) {
    return {};
  }
  const uint64_t m = table_size;
  std::vector<Walker> walkers;
  walkers.reserve(backends.size());
  for (const auto& b : backends) {
    walkers.push_back({.offset = hash_key(b.key, seed) % m,
                       .skip = hash_key(b.key, ~static_cast<uint64_t>(seed)) % (m - 1) + 1});
  }
  constexpr uint32_t kFree = UINT32_MAX;
  std::vector<uint32_t> table(table_size, kFree);
  uint64_t filled = 0;
  // Round r gives backend i turns up to floor(r * w_i / w_max): the heaviest takes one turn per
  // round, the others proportionally fewer, so shares follow weights to within a round.
  for (uint64_t round = 1; filled < m; ++round) {
    for (size_t i = 0; i < backends.size() && filled < m; ++i) {
      Walker& w = walkers[i];
      const uint64_t due = round * backends[i].weight / max_weight;
      while (w.turns < due && filled < m) {
        uint64_t slot = (w.offset + w.next * w.skip) % m;
        while (table[slot] != kFree) {
          ++w.next;
          slot = (w.offset + w.next * w.skip) % m;
        }
        table[slot] = static_cast<uint32_t>(i);
        ++w.next;
        ++w.turns;
        ++filled;
      }
    }
  }
  return table;
}

}  // namespace vigil

// Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): each backend walks its own
// permutation of the table's slots and claims the next free one on its turn, so every backend
// owns about the same share and removing one moves little more than its own share. Weights
// give a backend proportionally more turns. Pure and deterministic: the same backends, weights,
// table size and seed give the same table on every appliance.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vigil {

struct MaglevBackend {
  std::string key;  // stable identity (the address as text): decides the permutation
  uint32_t weight = 1;
};

// Sizes the table for the backends: a prime, and Maglev wants it well above 100 x the count.
bool is_prime(uint32_t n);

// The table: for each of `table_size` slots, an index into `backends`. Backends of weight 0
// get no slot (drained); with none of weight > 0 the table is empty. `table_size` must be
// prime (the permutations rely on it).
std::vector<uint32_t> build_maglev_table(std::span<const MaglevBackend> backends,
                                         uint32_t table_size, uint32_t seed);

}  // namespace vigil

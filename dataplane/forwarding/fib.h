// One IPv4 and one IPv6 longest-prefix-match table (DPDK rte_fib DIR-24-8 and rte_fib6
// trie) mapping prefixes to next-hop group ids. Lookups are lock-free and in bulk; updates
// are single-writer (the control thread). The route table keeps two of these and updates the
// one no lcore reads (route_table.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"
#include "common/net/ip.h"

struct rte_fib;
struct rte_fib6;

namespace vigil::dp {

using GroupId = uint16_t;
// Lookups that match nothing return this id; group 0 is always "no route".
inline constexpr GroupId kNoRouteGroup = 0;

struct FibLimits {
  uint32_t max_routes4 = 1u << 20;  // a full Internet table with room to grow
  uint32_t max_routes6 = 1u << 18;
  // Groups of 256 entries for prefixes longer than /24 (IPv4) or each 8 bits past the
  // first 24 (IPv6 trie). With 2-byte next hops DPDK allows fewer than 2^15.
  uint32_t tbl8_groups4 = 1u << 14;
  uint32_t tbl8_groups6 = 1u << 14;
};

class Fib {
 public:
  // `name` must be unique in the process (DPDK names its memory zones by it).
  static Expected<std::unique_ptr<Fib>> create(const std::string& name, const FibLimits& limits);
  ~Fib();
  Fib(const Fib&) = delete;
  Fib& operator=(const Fib&) = delete;

  Status add(const net::Prefix& prefix, GroupId group);
  Status remove(const net::Prefix& prefix);

  // Host-order IPv4 addresses, as rte_fib wants them; `groups` gets one id per address.
  void lookup4(uint32_t* addresses, uint64_t* groups, int count) const;
  void lookup6(uint8_t (*addresses)[16], uint64_t* groups, int count) const;

 private:
  Fib(rte_fib* v4, rte_fib6* v6) : v4_(v4), v6_(v6) {}
  rte_fib* v4_;
  rte_fib6* v6_;
};

}  // namespace vigil::dp

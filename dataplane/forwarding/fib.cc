#include "dataplane/forwarding/fib.h"

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_memory.h>

#include <cstring>

namespace vigil::dp {
namespace {

uint32_t host_order_v4(const net::IpAddress& a) {
  return static_cast<uint32_t>(a.bytes[0]) << 24 | static_cast<uint32_t>(a.bytes[1]) << 16 |
         static_cast<uint32_t>(a.bytes[2]) << 8 | a.bytes[3];
}

Failure dpdk_failure(const std::string& what, int code) {
  return fail(what + ": " + rte_strerror(code < 0 ? -code : code));
}

}  // namespace

Expected<std::unique_ptr<Fib>> Fib::create(const std::string& name, const FibLimits& limits) {
  rte_fib_conf conf4{};
  conf4.type = RTE_FIB_DIR24_8;
  conf4.default_nh = kNoRouteGroup;
  conf4.max_routes = static_cast<int>(limits.max_routes4);
  // 2-byte next hops: 32 MiB for the /24 table instead of 128 MiB with 8 bytes, and group ids
  // are 15 bits (the top bit marks a tbl8 reference).
  conf4.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
  conf4.dir24_8.num_tbl8 = limits.tbl8_groups4;
  rte_fib* v4 = rte_fib_create((name + "4").c_str(), SOCKET_ID_ANY, &conf4);
  if (v4 == nullptr) {
    return dpdk_failure("cannot create the IPv4 FIB " + name, rte_errno);
  }
  rte_fib6_conf conf6{};
  conf6.type = RTE_FIB6_TRIE;
  conf6.default_nh = kNoRouteGroup;
  conf6.max_routes = static_cast<int>(limits.max_routes6);
  conf6.trie.nh_sz = RTE_FIB6_TRIE_2B;
  conf6.trie.num_tbl8 = limits.tbl8_groups6;
  rte_fib6* v6 = rte_fib6_create((name + "6").c_str(), SOCKET_ID_ANY, &conf6);
  if (v6 == nullptr) {
    const int code = rte_errno;
    rte_fib_free(v4);
    return dpdk_failure("cannot create the IPv6 FIB " + name, code);
  }
  return std::unique_ptr<Fib>(new Fib(v4, v6));
}

Fib::~Fib() {
  rte_fib_free(v4_);
  rte_fib6_free(v6_);
}

Status Fib::add(const net::Prefix& prefix, GroupId group) {
  const auto depth = static_cast<uint8_t>(prefix.length);
  const int rc = prefix.address.family == 4
                     ? rte_fib_add(v4_, host_order_v4(prefix.address), depth, group)
                     : rte_fib6_add(v6_, prefix.address.bytes.data(), depth, group);
  if (rc != 0) {
    return dpdk_failure("cannot add " + prefix.to_string() + " to the FIB", rc);
  }
  return Ok{};
}

Status Fib::remove(const net::Prefix& prefix) {
  const auto depth = static_cast<uint8_t>(prefix.length);
  const int rc = prefix.address.family == 4
                     ? rte_fib_delete(v4_, host_order_v4(prefix.address), depth)
                     : rte_fib6_delete(v6_, prefix.address.bytes.data(), depth);
  if (rc != 0) {
    return dpdk_failure("cannot remove " + prefix.to_string() + " from the FIB", rc);
  }
  return Ok{};
}

void Fib::lookup4(uint32_t* addresses, uint64_t* groups, int count) const {
  rte_fib_lookup_bulk(v4_, addresses, groups, count);
}

void Fib::lookup6(uint8_t (*addresses)[16], uint64_t* groups, int count) const {
  rte_fib6_lookup_bulk(v6_, addresses, groups, count);
}

}  // namespace vigil::dp

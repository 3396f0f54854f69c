// What a route points to: a group of next hops sharing traffic by weight (ECMP), a local
// delivery, a blackhole or nothing. A group is immutable once published to the lcores; a
// change of members makes a new group (route_table.h), so a packet never sees half an edit.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/net/ip.h"

namespace vigil::dp {

using PortId = uint16_t;
// A gateway's slot in the adjacency table (adjacency_table.h).
using AdjacencyId = uint32_t;
inline constexpr AdjacencyId kNoAdjacency = UINT32_MAX;

enum class RouteAction : uint8_t {
  kNoRoute,    // nothing matched: drop, ICMP unreachable
  kForward,    // out through one of the members
  kLocal,      // an address of the box: to the kernel (exception path)
  kBlackhole,  // configured discard: drop silently
};

struct NextHop {
  PortId port = 0;
  // The neighbour to send to. Absent on a connected route: the packet's destination is the
  // neighbour.
  std::optional<net::IpAddress> gateway;
  uint32_t weight = 1;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const NextHop&) const = default;
};

// The bucket of [0, count) a flow hash falls in: multiply-shift, no division.
inline uint64_t bucket_of(uint32_t flow_hash, uint64_t count) {
  return (static_cast<uint64_t>(flow_hash) * count) >> 32;
}

struct NextHopGroup {
  RouteAction action = RouteAction::kNoRoute;
  std::vector<NextHop> members;  // sorted, so equal sets compare equal
  // Member index per bucket, each member present `weight` times (scaled down when the sum is
  // large). A flow hash picks a bucket, so shares follow the weights and a flow keeps its
  // member while the group lives.
  std::vector<uint16_t> buckets;
  // Per member: its gateway's adjacency, kNoAdjacency on a connected route. Filled in by the
  // route table for the groups it publishes; empty elsewhere. Not part of the group's identity.
  std::vector<AdjacencyId> adjacency;

  // The member a flow hash picks. Precondition: action is kForward, buckets not empty.
  const NextHop& pick(uint32_t flow_hash) const {
    return members[buckets[bucket_of(flow_hash, buckets.size())]];
  }
  AdjacencyId adjacency_of(uint16_t member) const {
    return member < adjacency.size() ? adjacency[member] : kNoAdjacency;
  }

  bool operator==(const NextHopGroup& other) const {
    return action == other.action && members == other.members;
  }
};

// At most this many buckets per group: weights whose sum exceeds it are scaled down, each
// member keeping at least one bucket.
inline constexpr size_t kMaxBuckets = 1024;

// A group forwarding over `members` (any order, duplicates merged by adding weights).
NextHopGroup make_forward_group(std::vector<NextHop> members);
NextHopGroup make_group(RouteAction action);

}  // namespace vigil::dp

#include "dataplane/forwarding/next_hop_group.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace vigil::dp {
namespace {

// Equal (port, gateway) entries are one next hop with the summed weight.
std::vector<NextHop> merge_duplicates(std::vector<NextHop> members) {
  std::sort(members.begin(), members.end(), [](const NextHop& a, const NextHop& b) {
    return std::tie(a.port, a.gateway) < std::tie(b.port, b.gateway);
  });
  std::vector<NextHop> merged;
  for (auto& m : members) {
    if (!merged.empty() && merged.back().port == m.port && merged.back().gateway == m.gateway) {
      merged.back().weight += m.weight;
    } else {
      merged.push_back(std::move(m));
    }
  }
  return merged;
}

// Buckets per member proportional to weight, largest remainders first, at least one each.
std::vector<uint32_t> bucket_counts(const std::vector<NextHop>& members) {
  const uint64_t total = std::accumulate(members.begin(), members.end(), uint64_t{0},
                                         [](uint64_t s, const NextHop& m) { return s + m.weight; });
  std::vector<uint32_t> counts(members.size());
  if (total <= kMaxBuckets) {
    for (size_t i = 0; i < members.size(); ++i) {
      counts[i] = members[i].weight;
    }
    return counts;
  }
  const size_t budget = std::max(kMaxBuckets, members.size());
  std::vector<std::pair<uint64_t, size_t>> remainders;  // (remainder, member), for rounding
  size_t used = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    const uint64_t exact = static_cast<uint64_t>(members[i].weight) * budget;
    counts[i] = std::max<uint32_t>(1, static_cast<uint32_t>(exact / total));
    used += counts[i];
    remainders.emplace_back(exact % total, i);
  }
  std::sort(remainders.rbegin(), remainders.rend());
  for (size_t r = 0; used < budget && r < remainders.size(); ++r, ++used) {
    ++counts[remainders[r].second];
  }
  return counts;
}

}  // namespace

NextHopGroup make_group(RouteAction action) {
  return NextHopGroup{.action = action};
}

NextHopGroup make_forward_group(std::vector<NextHop> members) {
  NextHopGroup group{.action = RouteAction::kForward,
                     .members = merge_duplicates(std::move(members))};
  const auto counts = bucket_counts(group.members);
  // Interleaved (round robin over members while they have buckets left) rather than in runs:
  // not needed for the shares, but it keeps a hash bias from favouring one member.
  std::vector<uint32_t> left = counts;
  bool placed = true;
  while (placed) {
    placed = false;
    for (size_t i = 0; i < left.size(); ++i) {
      if (left[i] > 0) {
        group.buckets.push_back(static_cast<uint16_t>(i));
        --left[i];
        placed = true;
      }
    }
  }
  return group;
}

}  // namespace vigil::dp

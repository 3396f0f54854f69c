#include "dataplane/forwarding/next_hop_group.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/net_literals.h"

namespace vigil::dp {
namespace {

using vigil::test::ip;

std::map<PortId, size_t> bucket_shares(const NextHopGroup& g) {
  std::map<PortId, size_t> shares;
  for (uint16_t b : g.buckets) {
    ++shares[g.members[b].port];
  }
  return shares;
}

TEST(NextHopGroup, BucketsFollowWeights) {
  const auto g = make_forward_group({{.port = 1, .gateway = ip("10.0.0.1"), .weight = 3},
                                     {.port = 2, .gateway = ip("10.0.1.1"), .weight = 1}});
  ASSERT_EQ(g.buckets.size(), 4u);
  EXPECT_EQ(bucket_shares(g), (std::map<PortId, size_t>{{1, 3}, {2, 1}}));
}

TEST(NextHopGroup, LargeWeightsAreScaledKeepingEveryMember) {
  std::vector<NextHop> members;
  for (PortId p = 0; p < 10; ++p) {
    members.push_back({.port = p, .weight = p == 0 ? 1u : 255u});
  }
  const auto g = make_forward_group(members);
  EXPECT_EQ(g.buckets.size(), kMaxBuckets);
  const auto shares = bucket_shares(g);
  EXPECT_EQ(shares.size(), 10u);
  EXPECT_GE(shares.at(0), 1u);
  for (PortId p = 1; p < 10; ++p) {
    // 255 / 2296 of 1024 buckets = 113.7
    EXPECT_NEAR(static_cast<double>(shares.at(p)), 113.7, 1.0) << p;
  }
}

TEST(NextHopGroup, DuplicateNextHopsMergeAndOrderDoesNotMatter) {
  const auto a = make_forward_group({{.port = 2, .gateway = ip("10.0.1.1")},
                                     {.port = 1, .gateway = ip("10.0.0.1")},
                                     {.port = 2, .gateway = ip("10.0.1.1")}});
  const auto b = make_forward_group({{.port = 1, .gateway = ip("10.0.0.1")},
                                     {.port = 2, .gateway = ip("10.0.1.1"), .weight = 2}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.members.size(), 2u);
  EXPECT_EQ(bucket_shares(a), (std::map<PortId, size_t>{{1, 1}, {2, 2}}));
}

TEST(NextHopGroup, PickSpreadsHashesByWeightAndIsStable) {
  const auto g = make_forward_group({{.port = 1, .weight = 1}, {.port = 2, .weight = 3}});
  std::map<PortId, size_t> picks;
  uint32_t h = 12345;
  for (int i = 0; i < 40000; ++i) {
    h = h * 1664525u + 1013904223u;  // spread over the whole 32-bit range
    ++picks[g.pick(h).port];
    EXPECT_EQ(g.pick(h).port, g.pick(h).port);
  }
  EXPECT_NEAR(static_cast<double>(picks[1]) / 40000, 0.25, 0.02);
  EXPECT_NEAR(static_cast<double>(picks[2]) / 40000, 0.75, 0.02);
}

}  // namespace
}  // namespace vigil::dp

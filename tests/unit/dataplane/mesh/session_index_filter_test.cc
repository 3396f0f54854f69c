// The filter of live session indexes: what was added may be held until removed as often; of
// random indexes never added, few pass.
#include "dataplane/mesh/session_index_filter.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>

namespace vigil::dp {
namespace {

TEST(SessionIndexFilter, AddedIndexesPassUntilRemovedAndFewOthersDo) {
  auto filter = std::make_unique<SessionIndexFilter>();
  std::mt19937 random(7);
  std::vector<uint32_t> live;
  for (int k = 0; k < 768; ++k) {  // three sessions for each of 256 peers
    live.push_back(static_cast<uint32_t>(random()));
    filter->add(live.back());
  }
  filter->add(live[0]);  // counted twice: two removals take it out
  for (uint32_t index : live) {
    EXPECT_TRUE(filter->may_hold(index)) << index;
  }
  int passed = 0;
  for (int k = 0; k < 100000; ++k) {
    passed += filter->may_hold(static_cast<uint32_t>(random())) ? 1 : 0;
  }
  EXPECT_LT(passed, 2000) << "about 1.2% of forged indexes reach an owner";
  // Indexes that differ only in the shard bits fall in different buckets.
  auto one = std::make_unique<SessionIndexFilter>();
  one->add(0x12345678);
  EXPECT_FALSE(one->may_hold(0x12345679));
  for (uint32_t index : live) {
    filter->remove(index);
  }
  EXPECT_TRUE(filter->may_hold(live[0]));
  filter->remove(live[0]);
  int left = 0;
  for (uint32_t index : live) {
    left += filter->may_hold(index) ? 1 : 0;
  }
  EXPECT_EQ(left, 0);
}

}  // namespace
}  // namespace vigil::dp

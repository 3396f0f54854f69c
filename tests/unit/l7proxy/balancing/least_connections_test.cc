// Least connections: the backend with the fewest in flight for its weight; an idle pool is
// shared in turn.
#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

TEST(LeastConnectionsTest, TheLeastLoadedForItsWeightIsPicked) {
  auto b = test::make("least-connections", test::pool({1, 1, 2}));
  const std::vector<bool> all(3, true);
  // Requests that stay in flight: 0 and 1 get one each, 2 (weight 2) gets two.
  std::vector<int> got(3, 0);
  for (int i = 0; i < 4; ++i) {
    const size_t p = *b->pick({}, all);
    b->started(p);
    ++got[p];
  }
  EXPECT_EQ(got, (std::vector<int>{1, 1, 2}));
  b->finished(0, {}, {});
  EXPECT_EQ(*b->pick({}, all), 0u) << "the one that finished";
}

TEST(LeastConnectionsTest, AnIdlePoolIsSharedInTurn) {
  auto b = test::make("least-connections", test::pool({1, 1, 1}));
  EXPECT_EQ(test::counts(*b, 3, 30, std::vector<bool>(3, true)), (std::vector<int>{10, 10, 10}));
}

}  // namespace
}  // namespace vigil::l7

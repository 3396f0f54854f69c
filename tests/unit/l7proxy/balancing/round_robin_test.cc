// Smooth weighted round robin: exact shares per cycle, turns spread (nginx's a a b a c a a),
// unusable backends skipped.
#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

TEST(RoundRobinTest, WeightsGiveExactSharesSpreadOut) {
  auto b = test::make("round-robin", test::pool({5, 1, 1}));
  std::string order;
  for (int i = 0; i < 7; ++i) {
    order += static_cast<char>('a' + *b->pick({}, std::vector<bool>(3, true)));
  }
  EXPECT_EQ(order, "aabacaa");
  auto even = test::make("round-robin", test::pool({1, 2, 3}));
  EXPECT_EQ(test::counts(*even, 3, 600, std::vector<bool>(3, true)),
            (std::vector<int>{100, 200, 300}));
}

TEST(RoundRobinTest, AnUnusableBackendIsSkipped) {
  auto b = test::make("round-robin", test::pool({1, 1, 1}));
  EXPECT_EQ(test::counts(*b, 3, 100, {true, false, true}), (std::vector<int>{50, 0, 50}));
}

}  // namespace
}  // namespace vigil::l7

// Maglev: a key keeps its backend; shares follow the weights; when a backend goes, only its
// keys move.
#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

TEST(MaglevBalancerTest, KeysStayAndOnlyAGoneBackendsKeysMove) {
  const auto backends = test::pool({1, 1, 1, 1});
  auto b = test::make("maglev", backends, 42);
  const std::vector<bool> all(4, true);
  std::vector<size_t> before;
  for (uint64_t k = 0; k < 4000; ++k) {
    before.push_back(*b->pick({.hash = k * 0x9e3779b97f4a7c15ull}, all));
    EXPECT_EQ(*b->pick({.hash = k * 0x9e3779b97f4a7c15ull}, all), before.back());
  }
  const std::vector<bool> without_2{true, true, false, true};
  size_t moved = 0;
  for (uint64_t k = 0; k < 4000; ++k) {
    const size_t now = *b->pick({.hash = k * 0x9e3779b97f4a7c15ull}, without_2);
    EXPECT_NE(now, 2u);
    moved += before[k] != 2 && now != before[k] ? 1 : 0;
  }
  EXPECT_LT(moved, 4000u / 50) << "Maglev moves a little more than the gone backend's keys";
}

TEST(MaglevBalancerTest, SharesFollowTheWeights) {
  auto b = test::make("maglev", test::pool({1, 3}), 5);
  const auto got = test::counts(*b, 2, 8000, std::vector<bool>(2, true));
  EXPECT_NEAR(got[1] / static_cast<double>(got[0]), 3.0, 0.3);
}

}  // namespace
}  // namespace vigil::l7

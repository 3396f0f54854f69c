// Power of two choices: a loaded backend gets only what it wins against another, and with
// none loaded the picks spread evenly.
#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

TEST(PowerOfTwoTest, ALoadedBackendIsAvoided) {
  auto b = test::make("power-of-two", test::pool({1, 1, 1, 1}), 7);
  for (int i = 0; i < 50; ++i) {
    b->started(0);  // backend 0 holds 50 requests
  }
  const auto got = test::counts(*b, 4, 3000, std::vector<bool>(4, true));
  EXPECT_EQ(got[0], 0) << "it loses every draw it is in";
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_NEAR(got[i], 1000, 150) << i;
  }
}

TEST(PowerOfTwoTest, AnIdlePoolIsSpreadEvenly) {
  auto b = test::make("power-of-two", test::pool({1, 1, 1}), 11);
  for (const int n : test::counts(*b, 3, 3000, std::vector<bool>(3, true))) {
    EXPECT_NEAR(n, 1000, 150);
  }
}

}  // namespace
}  // namespace vigil::l7

// The registry: every policy registered itself by name; an unknown name makes nothing; no
// policy picks when no backend is usable.
#include "l7proxy/balancing/balancer.h"

#include "tests/unit/l7proxy/balancing/balance_test_util.h"

namespace vigil::l7 {
namespace {

TEST(BalancerTest, EveryPolicyIsRegisteredByName) {
  EXPECT_EQ(balancer_names(), (std::vector<std::string>{"least-connections", "maglev", "peak-ewma",
                                                        "power-of-two", "round-robin"}));
  EXPECT_EQ(make_balancer("random", test::pool({1}), 1), nullptr);
  EXPECT_FALSE(register_balancer("maglev", nullptr)) << "a name is taken once";
}

TEST(BalancerTest, NoPolicyPicksWhenNothingIsUsable) {
  const auto backends = test::pool({1, 1, 0});
  for (const auto& name : balancer_names()) {
    auto b = make_balancer(name, backends, 3);
    EXPECT_FALSE(b->pick({}, std::vector<bool>{false, false, true}).has_value())
        << name << ": a backend of weight 0 is drained";
    EXPECT_FALSE(b->pick({}, std::vector<bool>{}).has_value()) << name;
    const auto one = b->pick({}, std::vector<bool>{false, true, false});
    ASSERT_TRUE(one.has_value()) << name;
    EXPECT_EQ(*one, 1u) << name;
  }
}

}  // namespace
}  // namespace vigil::l7

// One check per capacity, at its edge: the schema and the classifier's loader both call these.
#include "config/capacity_checks.h"

#include <gtest/gtest.h>

#include "config/capacities.h"

namespace vigil::config {
namespace {

TEST(CapacityChecks, EachFitsUpToItsLimitAndNamesItBeyond) {
  struct Case {
    Status (*check)(size_t);
    size_t limit;
    const char* what;
  };
  const Case cases[] = {
      {check_acl_rule_count, VIGIL_ACL_MAX_RULES, "ACL rules"},
      {check_vip_count, VIGIL_MAX_VIPS, "VIPs"},
      {check_backend_count, VIGIL_MAX_BACKENDS, "backends in all"},
      {check_local_address_count, VIGIL_MAX_LOCAL_ADDRESSES, "addresses of the box"},
      {check_local_port_count, VIGIL_MAX_LOCAL_PORTS, "service ports of the box"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(c.check(0).ok()) << c.what;
    EXPECT_TRUE(c.check(c.limit).ok()) << c.what;
    auto over = c.check(c.limit + 1);
    ASSERT_FALSE(over.ok()) << c.what;
    EXPECT_EQ(over.error(), std::to_string(c.limit + 1) + " " + c.what + "; the classifier holds " +
                                std::to_string(c.limit));
  }
}

TEST(CapacityChecks, RateAndSynLimitsShareThePolicers) {
  EXPECT_TRUE(check_policer_count(VIGIL_MAX_POLICERS, 0).ok());
  EXPECT_TRUE(check_policer_count(VIGIL_MAX_POLICERS - 1, 1).ok());
  auto over = check_policer_count(VIGIL_MAX_POLICERS, 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error(), std::to_string(VIGIL_MAX_POLICERS + 1) +
                              " rate and SYN limits; the classifier holds " +
                              std::to_string(VIGIL_MAX_POLICERS));
}

}  // namespace
}  // namespace vigil::config

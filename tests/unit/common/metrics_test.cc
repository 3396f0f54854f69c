#include "common/metrics.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(MetricsRegistry, SerializesCountersAndGaugesInTextFormat) {
  MetricsRegistry m;
  auto& drops = m.counter("vigil_dp_drops_total", "Packets dropped, by reason");
  drops.Add({{"reason", "no_route"}}).Increment(3);
  drops.Add({{"reason", "ttl"}}).Increment();
  m.gauge("vigil_dp_ports", "Ports in use").Add({}).Set(2);

  const std::string text = m.serialize();
  EXPECT_NE(text.find("# HELP vigil_dp_drops_total Packets dropped, by reason\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE vigil_dp_drops_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_dp_drops_total{reason=\"no_route\"} 3"), std::string::npos);
  EXPECT_NE(text.find("vigil_dp_drops_total{reason=\"ttl\"} 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE vigil_dp_ports gauge\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_dp_ports 2"), std::string::npos);
}

TEST(MetricsRegistry, SameNameReturnsSameFamily) {
  MetricsRegistry m;
  auto& a = m.counter("vigil_x_total", "x");
  auto& b = m.counter("vigil_x_total", "x");
  EXPECT_EQ(&a, &b);
}

TEST(MetricsRegistry, EnforcesNamingConventions) {
  MetricsRegistry m;
  EXPECT_THROW(m.counter("drops_total", "no prefix"), std::invalid_argument);
  EXPECT_THROW(m.counter("vigil_drops", "counter without _total"), std::invalid_argument);
  EXPECT_THROW(m.gauge("vigil_ports_total", "gauge with _total"), std::invalid_argument);
  EXPECT_THROW(m.counter("vigil_bad-name_total", "dash"), std::invalid_argument);
}

TEST(MetricsRegistry, CheckNameExplainsTheProblem) {
  auto st = MetricsRegistry::check_name("vigil_drops", true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "metric \"vigil_drops\": counters, and only counters, end in _total");
  EXPECT_TRUE(MetricsRegistry::check_name("vigil_l7_requests_total", true).ok());
  EXPECT_TRUE(MetricsRegistry::check_name("vigil_l7_request_duration_seconds", false).ok());
}

}  // namespace
}  // namespace vigil

#include "common/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

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

TEST(HistogramExporter, ObservesTheGrowthOfTotalsAndSurvivesTheJsonTrip) {
  MetricsRegistry m;
  auto& family = m.histogram("vigil_l7_route_request_duration_seconds", "Latency");
  HistogramExporter exported;
  const std::vector<double> bounds = {0.01, 0.1};
  exported.set(family, {{"route", "api"}}, bounds, {3, 1, 0}, 0.2);
  exported.set(family, {{"route", "api"}}, bounds, {5, 1, 2}, 1.5);  // +2, +0, +2
  const std::string text = m.serialize();
  EXPECT_NE(text.find("# TYPE vigil_l7_route_request_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(
      text.find("vigil_l7_route_request_duration_seconds_bucket{route=\"api\",le=\"0.01\"} 5"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("vigil_l7_route_request_duration_seconds_bucket{route=\"api\",le=\"0.1\"} 6"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("vigil_l7_route_request_duration_seconds_count{route=\"api\"} 8"),
            std::string::npos)
      << text;
  // What a component hands vigild comes out the same in vigild's exposition.
  const auto families = MetricsRegistry::families_from_json(m.to_json());
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 1u);
  const auto& h = families[0].metric[0].histogram;
  EXPECT_EQ(h.sample_count, 8u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 1.5);
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[1].cumulative_count, 6u);
  EXPECT_TRUE(std::isinf(h.bucket[2].upper_bound));
  EXPECT_EQ(h.bucket[2].cumulative_count, 8u);
  // Totals that shrank were reset (a restarted component): counted again from zero.
  exported.set(family, {{"route", "api"}}, bounds, {1, 0, 0}, 0.001);
  EXPECT_NE(m.serialize().find("vigil_l7_route_request_duration_seconds_count{route=\"api\"} 9"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil

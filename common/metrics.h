// The metrics registry every process uses, over prometheus-cpp. It enforces Vigil's naming
// rules at registration (a `vigil_` prefix, `_total` on counters, valid characters) so a
// badly named metric fails at start-up, not in an operator's dashboard.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace vigil {

class MetricsRegistry {
 public:
  MetricsRegistry();

  // Returns the family, creating it on first use. Throws std::invalid_argument on a name that
  // breaks the rules: a programming error, caught by unit tests and at process start.
  prometheus::Family<prometheus::Counter>& counter(const std::string& name,
                                                   const std::string& help);
  prometheus::Family<prometheus::Gauge>& gauge(const std::string& name, const std::string& help);
  // Named like a gauge (no _total): "vigil_l7_route_request_duration_seconds".
  prometheus::Family<prometheus::Histogram>& histogram(const std::string& name,
                                                       const std::string& help);

  // Families as JSON, so vigild can merge components' metrics into its own exposition:
  // [{"name", "help", "type": "counter"|"gauge"|"histogram"|"untyped", "samples": [{"labels",
  // "value"}]}]; a histogram's samples have "count", "sum" and "buckets": [[upper bound,
  // cumulative count], ...] instead of "value". Summaries are not carried (none exist).
  nlohmann::json to_json() const;
  static std::vector<prometheus::MetricFamily> families_from_json(const nlohmann::json& j);

  // The Prometheus text exposition format (version 0.0.4) of everything registered.
  std::string serialize() const;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Why `name` is not an acceptable metric name, or success.
  static Status check_name(std::string_view name, bool is_counter);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

// Exports histograms kept elsewhere as totals (per-bucket counts and a sum that only grow),
// as TotalsExporter does counters: each export observes the difference since the last one.
class HistogramExporter {
 public:
  // `buckets`: the count in each bucket of `bounds` (not cumulative), then above the last.
  void set(prometheus::Family<prometheus::Histogram>& family,
           const std::map<std::string, std::string>& labels, const std::vector<double>& bounds,
           const std::vector<uint64_t>& buckets, double sum);

 private:
  struct Last {
    std::vector<uint64_t> buckets;
    double sum = 0;
  };
  std::map<std::string, Last> last_;  // by family name and labels
};

// Exports totals kept elsewhere (BPF maps, fast-path lcore counters) as Prometheus counters,
// which only go up: each export adds the difference since the last one, and a total that went
// down was reset (a renamed rule, a restarted component) and counts from zero again.
class TotalsExporter {
 public:
  void set(prometheus::Family<prometheus::Counter>& family,
           const std::map<std::string, std::string>& labels, uint64_t total);

 private:
  std::map<std::string, double> last_;  // by family name and labels
};

}  // namespace vigil

// vigil-l7's counters in Prometheus: the workers' totals (Proxy::stats) exported as counters
// that only go up, the open connections as a gauge, and by route and by upstream the
// responses by status class and a latency histogram; each checked target's health.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/metrics.h"

namespace vigil::l7 {

// What was exported before, kept between calls.
struct MetricsExporters {
  TotalsExporter totals;
  HistogramExporter histograms;
  // Health gauges by upstream and target: removed when their target goes.
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> healthy;
};

void export_metrics(const nlohmann::json& stats, MetricsRegistry& metrics,
                    MetricsExporters& exported);

}  // namespace vigil::l7

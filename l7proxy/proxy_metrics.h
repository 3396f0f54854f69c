// vigil-l7's counters in Prometheus: the workers' totals (Proxy::stats) exported as counters
// that only go up, and the open connections as a gauge. Not yet: by route and upstream, and
// latency histograms (the registry carries no histogram to vigild yet).
#pragma once

#include <nlohmann/json.hpp>

#include "common/metrics.h"

namespace vigil::l7 {

void export_metrics(const nlohmann::json& stats, MetricsRegistry& metrics,
                    TotalsExporter& exported);

}  // namespace vigil::l7

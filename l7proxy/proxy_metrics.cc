#include "l7proxy/proxy_metrics.h"

#include "l7proxy/core/request_totals.h"
#include "l7proxy/core/worker_stats.h"

namespace vigil::l7 {

namespace {

// By route or by upstream (`label`): responses by class and the latency histogram.
void export_by(const nlohmann::json& by_name, const std::string& label, MetricsRegistry& metrics,
               MetricsExporters& exported) {
  auto& responses = metrics.counter(
      "vigil_l7_" + label + "_responses_total",
      "Requests ended, by " + label + " and status class (none: cut short, never answered)");
  auto& latency = metrics.histogram(
      "vigil_l7_" + label + "_request_duration_seconds",
      "From a request's head read to its end (the last byte of its answer), by " + label);
  static const std::vector<double> bounds(kLatencyBounds.begin(), kLatencyBounds.end());
  for (const auto& [name, totals] : by_name.items()) {
    for (const auto& [status_class, count] : totals.at("responses").items()) {
      exported.totals.set(responses, {{label, name}, {"class", status_class}},
                          count.get<uint64_t>());
    }
    exported.histograms.set(latency, {{label, name}}, bounds,
                            totals.at("latency_buckets").get<std::vector<uint64_t>>(),
                            totals.at("latency_sum").get<double>());
  }
}

}  // namespace

void export_metrics(const nlohmann::json& stats, MetricsRegistry& metrics,
                    MetricsExporters& exported) {
  for (const CounterInfo& c : kWorkerCounters) {
    const auto value = stats.at(std::string(c.key)).get<uint64_t>();
    if (c.metric.ends_with("_total")) {
      exported.totals.set(metrics.counter(std::string(c.metric), std::string(c.help)), {}, value);
    } else {
      metrics.gauge(std::string(c.metric), std::string(c.help))
          .Add({})
          .Set(static_cast<double>(value));
    }
  }
  auto& responses =
      metrics.counter("vigil_l7_responses_total", "Responses sent to clients, by status class");
  for (const auto& [status_class, count] : stats.at("responses").items()) {
    exported.totals.set(responses, {{"class", status_class}}, count.get<uint64_t>());
  }
  export_by(stats.at("routes"), "route", metrics, exported);
  export_by(stats.at("upstreams"), "upstream", metrics, exported);
}

}  // namespace vigil::l7

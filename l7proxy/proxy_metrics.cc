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

// Each target with active checks: healthy or not, and its checks by result.
void export_health(const nlohmann::json& health, MetricsRegistry& metrics,
                   MetricsExporters& exported) {
  auto& healthy = metrics.gauge("vigil_l7_upstream_target_healthy",
                                "1 while a target's active health checks pass, else 0");
  auto& checks = metrics.counter("vigil_l7_health_checks_total",
                                 "Active health checks of a target, by result");
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> now;
  for (const auto& h : health) {
    const std::string upstream = h.at("upstream").get<std::string>();
    const std::string target = h.at("target").get<std::string>();
    std::pair key{upstream, target};
    auto kept = exported.healthy.find(key);
    prometheus::Gauge* gauge = kept != exported.healthy.end()
                                   ? kept->second
                                   : &healthy.Add({{"upstream", upstream}, {"target", target}});
    gauge->Set(h.at("healthy").get<bool>() ? 1 : 0);
    now.emplace(std::move(key), gauge);
    for (const char* result : {"passed", "failed"}) {
      exported.totals.set(checks, {{"upstream", upstream}, {"target", target}, {"result", result}},
                          h.at(result).get<uint64_t>());
    }
  }
  for (const auto& [key, gauge] : exported.healthy) {
    if (!now.contains(key)) {
      healthy.Remove(gauge);  // the target is gone from the config
    }
  }
  exported.healthy = std::move(now);
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
  export_health(stats.at("health"), metrics, exported);
}

}  // namespace vigil::l7

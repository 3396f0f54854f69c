#include "l7proxy/proxy_metrics.h"

#include "l7proxy/core/worker_stats.h"

namespace vigil::l7 {

void export_metrics(const nlohmann::json& stats, MetricsRegistry& metrics,
                    TotalsExporter& exported) {
  for (const CounterInfo& c : kWorkerCounters) {
    const auto value = stats.at(std::string(c.key)).get<uint64_t>();
    if (c.metric.ends_with("_total")) {
      exported.set(metrics.counter(std::string(c.metric), std::string(c.help)), {}, value);
    } else {
      metrics.gauge(std::string(c.metric), std::string(c.help))
          .Add({})
          .Set(static_cast<double>(value));
    }
  }
  auto& responses =
      metrics.counter("vigil_l7_responses_total", "Responses sent to clients, by status class");
  for (const auto& [status_class, count] : stats.at("responses").items()) {
    exported.set(responses, {{"class", status_class}}, count.get<uint64_t>());
  }
}

}  // namespace vigil::l7

#include "l7proxy/proxy_metrics.h"

namespace vigil::l7 {

void export_metrics(const nlohmann::json& stats, MetricsRegistry& metrics,
                    TotalsExporter& exported) {
  struct Total {
    const char* key;
    const char* name;
    const char* help;
  };
  static constexpr Total kTotals[] = {
      {"connections_accepted", "vigil_l7_connections_accepted_total", "Client connections taken"},
      {"connections_refused", "vigil_l7_connections_refused_total",
       "Client connections closed at once: a worker at l7.max_connections"},
      {"requests", "vigil_l7_requests_total", "Requests read whole"},
      {"bad_requests", "vigil_l7_bad_requests_total",
       "Requests refused as malformed or past a limit (4xx, connection closed)"},
      {"upstream_connects", "vigil_l7_upstream_connects_total", "Connections opened to targets"},
      {"upstream_connect_failures", "vigil_l7_upstream_connect_failures_total",
       "Connects to targets that failed or timed out"},
      {"upstream_reused", "vigil_l7_upstream_reused_total",
       "Requests sent on a kept-alive upstream connection"},
      {"retries", "vigil_l7_retries_total", "Requests tried again (on another target, or anew)"},
      {"ejections", "vigil_l7_ejections_total", "Targets ejected by outlier detection"},
      {"timeouts", "vigil_l7_timeouts_total",
       "Requests or connections ended by a timeout (head, connect, response, idle)"},
      {"access_log_dropped", "vigil_l7_access_log_dropped_total",
       "Access log lines dropped: the file did not take them in time"},
  };
  for (const Total& t : kTotals) {
    exported.set(metrics.counter(t.name, t.help), {}, stats.at(t.key).get<uint64_t>());
  }
  auto& responses =
      metrics.counter("vigil_l7_responses_total", "Responses sent to clients, by status class");
  for (const auto& [status_class, count] : stats.at("responses").items()) {
    exported.set(responses, {{"class", status_class}}, count.get<uint64_t>());
  }
  metrics.gauge("vigil_l7_connections_active", "Client connections open")
      .Add({})
      .Set(stats.at("connections_active").get<double>());
}

}  // namespace vigil::l7

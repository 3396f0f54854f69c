// monitoring: where vigild serves Prometheus metrics. SNMP is reserved until it exists.
#include "config/sections.h"

namespace vigil::config {
namespace {

constexpr Field kPrometheusFields[] = {
    {.key = "enabled", .type = "boolean", .description = "Serve /metrics", .default_value = "true"},
    {.key = "listen",
     .type = "address:port",
     .description = "Where vigild serves /metrics; IPv6 in brackets",
     .default_value = "127.0.0.1:9550"},
};
constexpr Schema kPrometheusSchema{.path = "monitoring.prometheus",
                                   .description = "Prometheus exposition by vigild.",
                                   .fields = kPrometheusFields};

constexpr Field kMonitoringFields[] = {
    {.key = "prometheus",
     .type = "mapping",
     .description = "Prometheus",
     .children = &kPrometheusSchema},
    {.key = "snmp",
     .type = "mapping",
     .description = "SNMP through snmpd's AgentX",
     .not_supported_until = "the SNMP subagent"},
};

}  // namespace

const Schema kMonitoringSchema{.path = "monitoring",
                               .description = "Metrics for monitoring systems.",
                               .fields = kMonitoringFields};

void parse_monitoring(const YAML::Node& node, const std::string& path, Config& config,
                      ErrorList& errors) {
  MapReader r(node, path, kMonitoringSchema, errors);
  if (!r.ok()) {
    return;
  }
  MonitoringConfig& m = config.monitoring;
  MapReader pr(r.get("prometheus"), r.path_of("prometheus"), kPrometheusSchema, errors);
  if (pr.ok() && pr.has("enabled")) {
    m.prometheus_enabled =
        read_bool(pr.get("enabled"), pr.path_of("enabled"), errors).value_or(true);
  }
  if (pr.ok() && pr.has("listen")) {
    if (auto hp = read_host_port(pr.get("listen"), pr.path_of("listen"), errors)) {
      m.prometheus_listen = *hp;
    }
  }
}

}  // namespace vigil::config

#include "mgmt/metrics_endpoint.h"

#include <map>

#include "common/json_rpc_client.h"

namespace vigil::mgmt {

using prometheus::MetricFamily;

namespace {

// Families with one name from several sources become one family, so the exposition never
// repeats a HELP/TYPE block (Prometheus rejects that).
void add_labelled(std::map<std::string, MetricFamily>& merged, std::vector<MetricFamily> families,
                  const std::string& component) {
  for (auto& f : families) {
    for (auto& m : f.metric) {
      m.label.push_back({"component", component});
    }
    auto [it, fresh] = merged.try_emplace(f.name, f);
    if (!fresh) {
      it->second.metric.insert(it->second.metric.end(), f.metric.begin(), f.metric.end());
    }
  }
}

}  // namespace

std::vector<MetricFamily> ComponentMetrics::Collect() const {
  std::map<std::string, MetricFamily> merged;
  // vigild's own families straight from its registry; only components cross a socket as JSON.
  add_labelled(merged, own_.registry()->Collect(), "vigild");

  MetricFamily up{.name = "vigil_component_up",
                  .help = "Whether vigild reached the component's control socket at this scrape",
                  .type = prometheus::MetricType::Gauge};
  for (const auto& [name, socket] : components_) {
    rpc::Client client(socket);
    auto r = client.call("metrics", {{"format", "json"}}, std::chrono::milliseconds(1000));
    prometheus::ClientMetric m;
    m.label = {{"component", name}};
    m.gauge.value = rpc::is_error(r) ? 0 : 1;
    up.metric.push_back(m);
    if (!rpc::is_error(r)) {
      add_labelled(merged,
                   MetricsRegistry::families_from_json(std::get<nlohmann::json>(r)["families"]),
                   name);
    }
  }
  merged.emplace(up.name, up);
  std::vector<MetricFamily> out;
  out.reserve(merged.size());
  for (auto& [_, f] : merged) {
    out.push_back(std::move(f));
  }
  return out;
}

Expected<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(
    const std::string& listen, const MetricsRegistry& own,
    std::vector<std::pair<std::string, std::string>> components) {
  std::unique_ptr<MetricsEndpoint> ep(new MetricsEndpoint());
  ep->collectable_ = std::make_shared<ComponentMetrics>(own, std::move(components));
  try {
    // civetweb serves one connection per thread and waits for a request's bytes: bounded so a
    // few idle or slow connections (anyone who can reach the port) delay a scrape by at most
    // the request timeout, never hold it off for good.
    ep->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", listen,                                       //
                                 "num_threads", std::to_string(kMetricsThreads),                  //
                                 "request_timeout_ms", std::to_string(kMetricsRequestTimeoutMs),  //
                                 "enable_keep_alive", "no",                                       //
                                 "max_request_size", "8192"});
  } catch (const std::exception& e) {
    return fail("cannot serve /metrics on " + listen + ": " + e.what());
  }
  ep->exposer_->RegisterCollectable(ep->collectable_);
  return ep;
}

}  // namespace vigil::mgmt

// vigild's Prometheus endpoint: one /metrics with vigild's own families and every
// component's (fetched over its control socket at scrape time), each sample labelled with
// the component it came from, plus vigil_component_up.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "common/metrics.h"

namespace vigil::mgmt {

class ComponentMetrics final : public prometheus::Collectable {
 public:
  ComponentMetrics(const MetricsRegistry& own,
                   std::vector<std::pair<std::string, std::string>> components)
      : own_(own), components_(std::move(components)) {}

  // Runs on the exposer's threads: it only reads the registry (thread-safe) and opens its
  // own connections.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // A copy shares the daemon's registry (shared_ptr), so scrapes in flight stay safe
  // whatever is destroyed first at shutdown.
  MetricsRegistry own_;
  std::vector<std::pair<std::string, std::string>> components_;  // name, socket
};

class MetricsEndpoint {
 public:
  // Connections served at once, and how long one may take to send its request (or to take
  // the answer): idle or slow connections delay a scrape by at most that much.
  static constexpr int kMetricsThreads = 8;
  static constexpr int kMetricsRequestTimeoutMs = 3000;

  // Binds `listen` ("127.0.0.1:9550", "[::1]:9550") and serves /metrics.
  static Expected<std::unique_ptr<MetricsEndpoint>> start(
      const std::string& listen, const MetricsRegistry& own,
      std::vector<std::pair<std::string, std::string>> components);

 private:
  MetricsEndpoint() = default;
  std::shared_ptr<ComponentMetrics> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace vigil::mgmt

// vigil-l7's workers and listening sockets, driven from the control thread: a config is
// prepared (its new listeners bound, so an address in use fails the commit before anything
// changes) and then activated (each worker takes it at its next turn). Listeners kept from one
// config to the next keep their sockets, so no connection waiting in a backlog is lost.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/api/l7_status.h"
#include "common/expected.h"
#include "common/net/host_port.h"
#include "common/unique_fd.h"
#include "l7proxy/core/health_checker.h"
#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/target_resolver.h"
#include "l7proxy/core/worker.h"

namespace vigil::l7 {

class Proxy {
 public:
  using Sockets = std::map<std::string, std::vector<std::shared_ptr<UniqueFd>>>;

  // TLS listeners' contexts by listener name.
  using TlsByListener = std::map<std::string, std::shared_ptr<const ServerTls>>;

  struct Prepared {
    std::shared_ptr<const ProxyConfig> config;
    Sockets sockets;                       // by listener address, one per worker
    TlsByListener tls;                     // certificates read anew
    std::shared_ptr<UniqueFd> access_log;  // opened anew: a rotated file is let go
    // Sockets this prepare bound, by listener address: they listen once activated.
    std::vector<std::pair<net::HostPort, std::shared_ptr<UniqueFd>>> bound;
  };

  // `lookup`: how target names are looked up (dns_lookup unless a test gives another).
  explicit Proxy(uint32_t workers, TargetResolver::Lookup lookup = dns_lookup);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Target names new to the proxy are looked up first (waiting up to two seconds for them):
  // a commit's workers then start with their addresses, unless DNS is slow to answer.
  Expected<Prepared> prepare(std::shared_ptr<const ProxyConfig> config) const;
  // Fails only when a socket bound at prepare cannot listen (another process took the port
  // meanwhile): then nothing has changed.
  Status activate(Prepared prepared);
  // The control thread's, often (vigil-l7 calls it every 200 ms): when DNS has changed a
  // target name's addresses, the workers are handed the config again with the new targets,
  // as a commit would (requests under way finish on the old; targets kept keep their warm
  // connections, ejection and health).
  void refresh_targets();
  // The control thread's, often: workers a commit retired (l7.workers lowered) are stopped
  // once their last connection has closed, their counters kept in the totals.
  void reap_retired();
  // SIGHUP: the access log opened again (after logrotate moved it), every TLS listener's
  // certificates, keys and OCSP responses read again, and every TLS upstream's CAs and client
  // certificate. Each part on its own: the certificates
  // all or none (on an error, naming the file, the ones before stay), the log whatever the
  // certificates did. The error says what was not reloaded.
  Status reload();
  void stop();

  size_t workers() const { return workers_.size(); }
  // Retired workers still serving connections they had.
  size_t retiring() const { return retiring_.size(); }
  // As the workers run it: target names replaced by their addresses.
  const std::shared_ptr<const ProxyConfig>& config() const { return config_; }
  // Counters summed over the workers.
  nlohmann::json stats() const;
  // Listeners, routes, upstreams with their targets' state as the workers see it (each asked,
  // a second at most, and the counters, 100 ms at most): what `vigil show l7` prints.
  api::L7Status show() const;

 private:
  Expected<TlsByListener> load_tls(const ProxyConfig& config) const;
  // `config` with each TLS upstream's client context loaded (a copy, if it has any).
  static Expected<std::shared_ptr<const ProxyConfig>> load_client_tls(
      std::shared_ptr<const ProxyConfig> config);
  Expected<std::shared_ptr<UniqueFd>> open_log(const ProxyConfig& config) const;
  void hand_out(const std::shared_ptr<const ProxyConfig>& config, const Sockets& sockets,
                const TlsByListener& tls, const std::shared_ptr<UniqueFd>& access_log,
                const std::shared_ptr<const HealthBoard>& health);

  // The config's worker count: each accepts on its own socket of each listener.
  static size_t worker_count(const ProxyConfig& config);
  // Adds or retires workers to `count`.
  void resize(size_t count);
  // Running and retiring workers alike: whose counters and targets the totals and show add up.
  std::vector<Worker*> all_workers() const;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Worker>> retiring_;  // serving what they had, accepting nothing
  size_t next_index_ = 0;                          // a new worker's (request IDs stay unique)
  // Counters of workers stopped after retiring, so the totals never shrink.
  std::array<uint64_t, std::size(kWorkerCounters)> retired_counters_{};
  std::array<uint64_t, 6> retired_responses_{};
  RequestTotals retired_totals_;
  std::shared_ptr<TicketKeyRing> tickets_ = std::make_shared<TicketKeyRing>();
  std::shared_ptr<const ProxyConfig> base_;    // as committed, target names unresolved
  std::shared_ptr<const ProxyConfig> config_;  // base_ with its names' addresses
  // Looking names up changes no config (prepare stays const) and its thread is its own.
  mutable TargetResolver resolver_;
  uint64_t resolved_version_ = 0;  // resolver_'s, as config_ has it
  Sockets sockets_;
  TlsByListener tls_;                     // as the workers have them
  std::shared_ptr<UniqueFd> access_log_;  // likewise
  HealthChecker checker_;
  std::shared_ptr<const HealthBoard> health_;  // the config's targets' health, as handed out
  // Each worker's request totals as it last answered (the control thread's alone).
  mutable std::map<const Worker*, RequestTotals> last_totals_;
  bool started_ = false;
};

}  // namespace vigil::l7

// One event-loop thread of vigil-l7. It accepts on its own SO_REUSEPORT socket of each
// listener (the kernel spreads new connections over the workers by their 4-tuple), and a
// connection stays on the worker that accepted it: nothing on the request path is shared
// with another thread or locked. A config reaches it as a posted message; connections
// accepted afterwards, and requests started afterwards on kept-alive ones, take the new one.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/unique_fd.h"
#include "l7proxy/core/access_log.h"
#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/request_totals.h"
#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/core/worker_stats.h"
#include "l7proxy/tls/server_tls.h"

namespace vigil::l7 {

// A client's connection as its worker holds it, whichever protocol it speaks.
class Downstream : public Pollable {
 public:
  // The worker is stopping: closed now, whatever it was doing.
  virtual void abort() = 0;
};

// A listener as a connection remembers it.
struct ListenerInfo {
  std::string name;
  bool trust_forwarded = false;
  bool http2 = false;                    // h2 by ALPN, or h2c with prior knowledge
  std::shared_ptr<const ServerTls> tls;  // null: plain HTTP
};

// A worker's own socket of a listener, and the TLS it speaks there (null: none).
struct ListenerBinding {
  std::shared_ptr<UniqueFd> socket;
  std::shared_ptr<const ServerTls> tls;
};

class Worker {
 public:
  explicit Worker(size_t index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();  // stops the loop, joins, closes every connection
  // Thread-safe: the worker accepts no more (what waits in its listeners' queues is taken
  // first, then it lets its sockets go) and serves the connections it has to their end: a
  // commit that lowers l7.workers cuts nobody off. Each kept-alive connection's next answer
  // says `Connection: close` (an idle one ends with its idle timeout), so retiring ends.
  void retire();
  // Retired (the worker's own thread): a request it starts now is its connection's last.
  bool retired() const { return retired_.load(std::memory_order_relaxed); }
  // Retired, and its last connection closed: stopping it now ends nothing under way.
  bool drained() const {
    return retired_.load(std::memory_order_acquire) &&
           stats_.active_connections.load(std::memory_order_relaxed) == 0;
  }

  // Thread-safe: the worker takes `config` and accepts on `listeners` (its own socket of each
  // of config's listeners, in order, with its TLS) from its next turn. Sockets it had and is
  // not given again are closed then. The config it already runs is kept as it is (a reload:
  // new certificates or a reopened log, the same pools and rate limits).
  // `access_log`: the file it appends to, when config has an access log. `health`: config's
  // targets' health as the health checker publishes it.
  void apply(std::shared_ptr<const ProxyConfig> config, std::vector<ListenerBinding> listeners,
             std::shared_ptr<UniqueFd> access_log, std::shared_ptr<const HealthBoard> health);

  const WorkerStats& stats() const { return stats_; }

  // Each target's state on this worker, by pool and target of `config` (empty when the worker
  // runs another config): asked from the control thread, answered on the worker's. No future
  // (not valid) when the worker is not running.
  struct TargetState {
    uint32_t in_flight = 0;
    uint32_t idle = 0;
    uint32_t http2 = 0;  // HTTP/2 connections open
    bool ejected = false;
    int64_t ejected_for_ms = 0;
    uint64_t ejections = 0;
  };
  using TargetStates = std::vector<std::vector<TargetState>>;
  std::future<TargetStates> ask_target_states(const ProxyConfig* config);
  // A copy of the worker's request totals, likewise.
  std::future<RequestTotals> ask_request_totals();

  // The worker's own thread only.
  Reactor& reactor() { return reactor_; }
  WorkerStats& mutable_stats() { return stats_; }
  const std::shared_ptr<Generation>& generation() const { return generation_; }
  void closed(Downstream* c);  // retires it
  // `from` gave its client over to `to` (an HTTP/1.1 connection that found HTTP/2 spoken):
  // `to` is held in its place, `from` retired.
  void hand_over(Downstream* from, Downstream* to);
  AccessLog* access_log() const { return access_log_.get(); }
  std::string next_request_id();
  // A request ended (answered, refused or cut short: status 0) on `route` ("": none matched)
  // toward `upstream` ("": it went to none).
  void count_request(std::string_view route, std::string_view upstream, int status, double seconds);
  // Accepts what is queued; false when it had to stop short (out of descriptors).
  bool accept_from(int fd, const ListenerInfo& listener);

 private:
  class Acceptor;
  void take(std::shared_ptr<const ProxyConfig> config, std::vector<ListenerBinding> listeners,
            std::shared_ptr<UniqueFd> access_log, std::shared_ptr<const HealthBoard> health);
  void sweep_idle();
  void prune_totals(const ProxyConfig& config);
  // Route and upstream names totals are kept for: past it, names no longer configured go.
  static constexpr size_t kMaxTotals = 4096;

  size_t index_;
  Reactor reactor_;
  WorkerStats stats_;
  std::thread thread_;
  std::shared_ptr<Generation> generation_;
  TargetMap targets_;
  BreakerMap breakers_;
  LimiterMap limiters_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unordered_set<Downstream*> clients_;
  uint64_t request_counter_ = 0;
  RequestTotals totals_;  // of the current config's routes and upstreams
  std::string request_id_prefix_;
  std::unique_ptr<Timer> sweeper_;
  std::unique_ptr<AccessLog> access_log_;
  std::atomic<bool> retired_{false};
};

}  // namespace vigil::l7

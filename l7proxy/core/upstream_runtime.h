// A worker's view of the upstream pools under one config: a balancer per pool (its own, so
// nothing is locked), and per target its outlier state and its kept-alive connections. Targets
// are kept by the worker across commits (keyed by upstream and address), so a commit that
// leaves a target in place keeps its warm connections and its ejection.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "l7proxy/balancing/balancer.h"
#include "l7proxy/core/http2_upstream.h"
#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/upstream_connection.h"
#include "l7proxy/limits/rate_limiter.h"
#include "l7proxy/upstream/circuit_breaker.h"
#include "l7proxy/upstream/outlier_detector.h"
#include "l7proxy/upstream/target_health.h"

namespace vigil::l7 {

struct TargetRuntime {
  explicit TargetRuntime(const OutlierSettings& s) : outlier(s) {}
  // HTTP/2 connections go to the reactor, not freed here: one may be at work in this batch.
  ~TargetRuntime();
  TargetRuntime(const TargetRuntime&) = delete;
  TargetRuntime& operator=(const TargetRuntime&) = delete;
  OutlierDetector outlier;
  std::vector<std::unique_ptr<UpstreamConnection>> idle;  // most recently used last
  std::vector<std::unique_ptr<Http2Upstream>> h2;         // an HTTP/2 pool's connections
  uint32_t active = 0;                                    // requests in flight

  // Takes the idle connection `c` out (it closed, or aged): handed back for retiring.
  std::unique_ptr<UpstreamConnection> remove_idle(const UpstreamConnection* c);
};

struct PoolRuntime {
  std::unique_ptr<Balancer> balancer;
  std::shared_ptr<CircuitBreaker> breaker;              // null: none configured; the worker's own
  std::vector<std::shared_ptr<TargetRuntime>> targets;  // as UpstreamSpec::targets
  std::vector<bool> usable;                             // scratch for each pick
};

// One config as one worker runs it.
struct Generation {
  std::shared_ptr<const ProxyConfig> config;
  std::vector<PoolRuntime> pools;                      // as ProxyConfig::upstreams
  std::vector<std::shared_ptr<RateLimiter>> limiters;  // by route id; null: no limit
  std::shared_ptr<const HealthBoard> health;           // the health checker's, for config
};

// The worker's targets by "upstream/address", kept across generations.
using TargetMap = std::unordered_map<std::string, std::shared_ptr<TargetRuntime>>;
// The worker's circuit breakers by upstream name, kept across generations while their
// settings stay the same (a commit that changes them starts a new, closed one).
using BreakerMap = std::unordered_map<std::string, std::shared_ptr<CircuitBreaker>>;
// The worker's rate limiters by route name and settings, kept across generations likewise
// (a DNS answer that changes the targets must not give every client a fresh burst).
using LimiterMap = std::unordered_map<std::string, std::shared_ptr<RateLimiter>>;

// Builds the generation for `config`, taking targets (and their idle connections) from
// `targets`, which then holds exactly the new config's, and breakers and rate limiters
// likewise from `breakers` and `limiters`.
// `health`: its targets' health as the checker publishes it (null: no checks anywhere).
// Removed targets' idle connections close; busy ones finish on the old generation, which still
// holds their target.
std::shared_ptr<Generation> make_generation(std::shared_ptr<const ProxyConfig> config,
                                            TargetMap& targets, BreakerMap& breakers,
                                            LimiterMap& limiters,
                                            std::shared_ptr<const HealthBoard> health,
                                            uint64_t seed);

}  // namespace vigil::l7

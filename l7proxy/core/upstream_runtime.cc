#include "l7proxy/core/upstream_runtime.h"

#include <algorithm>

namespace vigil::l7 {

TargetRuntime::~TargetRuntime() {
  for (auto& c : h2) {
    Http2Upstream::orphan(std::move(c));
  }
}

std::unique_ptr<UpstreamConnection> TargetRuntime::remove_idle(const UpstreamConnection* c) {
  const auto it =
      std::find_if(idle.begin(), idle.end(), [&](const auto& p) { return p.get() == c; });
  if (it == idle.end()) {
    return nullptr;
  }
  auto out = std::move(*it);
  idle.erase(it);
  return out;
}

std::shared_ptr<Generation> make_generation(std::shared_ptr<const ProxyConfig> config,
                                            TargetMap& targets, BreakerMap& breakers,
                                            LimiterMap& limiters,
                                            std::shared_ptr<const HealthBoard> health,
                                            uint64_t seed) {
  auto g = std::make_shared<Generation>();
  TargetMap next;
  BreakerMap next_breakers;
  for (const auto& u : config->upstreams) {
    PoolRuntime pool;
    std::vector<BackendInfo> backends;
    for (const auto& t : u.targets) {
      backends.push_back({.key = t.key, .weight = t.weight});
      const std::string key = u.name + "/" + t.key;
      auto found = targets.find(key);
      auto runtime =
          found != targets.end() ? found->second : std::make_shared<TargetRuntime>(u.outlier);
      runtime->outlier.configure(u.outlier);  // a commit's new thresholds, its runs kept
      next.emplace(key, runtime);
      pool.targets.push_back(std::move(runtime));
    }
    pool.balancer = make_balancer(u.policy, backends, seed++);
    pool.usable.assign(u.targets.size(), true);
    if (u.breaker) {
      auto kept = breakers.find(u.name);
      const auto same = [&](const BreakerSettings& a) {
        return a.failures_to_open == u.breaker->failures_to_open &&
               a.open_for == u.breaker->open_for &&
               a.half_open_probes == u.breaker->half_open_probes;
      };
      pool.breaker = kept != breakers.end() && same(kept->second->settings())
                         ? kept->second
                         : std::make_shared<CircuitBreaker>(*u.breaker);
      next_breakers.emplace(u.name, pool.breaker);
    }
    g->pools.push_back(std::move(pool));
  }
  LimiterMap next_limiters;
  g->limiters.resize(config->actions.size());
  for (size_t i = 0; i < config->routes.size(); ++i) {
    const RouteSpec& route = config->routes.at(i);
    const RouteAction& action = config->actions[route.id];
    if (!action.rate_limit) {
      continue;
    }
    const RateSettings& r = *action.rate_limit;
    const std::string key = route.name + "|" + action.rate_key_header + "|" +
                            std::to_string(r.rate) + "|" + std::to_string(r.burst) + "|" +
                            std::to_string(r.max_keys);
    auto kept = limiters.find(key);
    auto limiter = kept != limiters.end() ? kept->second : std::make_shared<RateLimiter>(r);
    next_limiters.emplace(key, limiter);
    g->limiters[route.id] = std::move(limiter);
  }
  limiters = std::move(next_limiters);
  for (auto& [key, runtime] : targets) {
    if (!next.contains(key)) {
      runtime->idle.clear();  // closes them: no new request will take these targets
    }
  }
  targets = std::move(next);
  breakers = std::move(next_breakers);
  g->config = std::move(config);
  g->health = std::move(health);
  return g;
}

}  // namespace vigil::l7

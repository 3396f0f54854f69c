#include "l7proxy/core/health_checker.h"

#include "common/logging.h"
#include "l7proxy/core/health_probe.h"
#include "l7proxy/upstream/health_state.h"

namespace vigil::l7 {

// One target's checks: a probe each interval, its result through the rise/fall state.
class HealthChecker::Check final : private Timer {
 public:
  Check(Reactor& reactor, Wanted w)
      : reactor_(reactor),
        upstream_(std::move(w.upstream)),
        target_(std::move(w.target)),
        settings_(std::move(w.settings)),
        tls_(std::move(w.tls)),
        health_(std::move(w.health)),
        state_(settings_.thresholds) {}
  ~Check() override { reactor_.timers().cancel(*this); }

  const std::shared_ptr<TargetHealth>& health() const { return health_; }
  // The same checks through contexts loaded again (SIGHUP, or a commit that kept them).
  void use_tls(std::shared_ptr<const ClientTls> tls) { tls_ = std::move(tls); }
  void start_now() { reactor_.timers().arm(*this, {}, reactor_.now()); }

 private:
  void on_timer() override {
    if (probe_ && !probe_->finished()) {
      // Still under way when the next is due (its timeout fell in the same tick): a failure.
      probe_.reset();
      heard({.failure = CheckFailure::kTimeout});
    }
    probe_.reset();
    reactor_.timers().arm(*this, settings_.interval, reactor_.now());
    probe_ = HealthProbe::start(reactor_, settings_, target_, tls_.get(),
                                [this](const CheckResult& r) { heard(r); });
  }

  void heard(const CheckResult& r) {
    if (r.failure == CheckFailure::kLocal) {
      // This side's want (no descriptor, no port), not the target's: no verdict on it, or
      // running out of descriptors would take every target out at once.
      log::debug("health check not made", {{"upstream", upstream_}, {"target", target_.key}});
      return;
    }
    TargetHealth& h = *health_;
    (r.passed ? h.passed : h.failed).fetch_add(1, std::memory_order_relaxed);
    if (!r.passed) {
      h.last_failure.store(r.failure, std::memory_order_relaxed);
      h.last_status.store(r.status, std::memory_order_relaxed);
    }
    const TargetHealth::State before = h.now();
    state_.record(r.passed);
    const TargetHealth::State after =
        state_.healthy() ? TargetHealth::State::kHealthy : TargetHealth::State::kUnhealthy;
    if (after == before) {
      return;
    }
    h.state.store(after, std::memory_order_relaxed);
    if (before != TargetHealth::State::kUnchecked) {
      h.changes.fetch_add(1, std::memory_order_relaxed);
    }
    if (after == TargetHealth::State::kHealthy) {
      log::info("upstream target healthy", {{"upstream", upstream_}, {"target", target_.key}});
    } else if (r.failure == CheckFailure::kStatus) {
      log::warn("upstream target unhealthy", {{"upstream", upstream_},
                                              {"target", target_.key},
                                              {"reason", check_failure_name(r.failure)},
                                              {"status", r.status}});
    } else {
      log::warn("upstream target unhealthy", {{"upstream", upstream_},
                                              {"target", target_.key},
                                              {"reason", check_failure_name(r.failure)}});
    }
  }

  Reactor& reactor_;
  std::string upstream_;
  TargetSpec target_;
  HealthCheckSettings settings_;
  std::shared_ptr<const ClientTls> tls_;
  std::shared_ptr<TargetHealth> health_;
  HealthState state_;
  std::unique_ptr<HealthProbe> probe_;
};

HealthChecker::HealthChecker() {
  thread_ = std::thread([this] { reactor_.run(); });
}

HealthChecker::~HealthChecker() {
  stop();
  checks_.clear();  // the thread is gone: nothing else touches them
}

void HealthChecker::stop() {
  if (thread_.joinable()) {
    reactor_.stop();
    thread_.join();
  }
}

std::shared_ptr<const HealthBoard> HealthChecker::apply(const ProxyConfig& config) {
  auto board = std::make_shared<HealthBoard>(config.upstreams.size());
  std::map<std::string, Known> known;
  std::vector<Wanted> wanted;
  for (size_t u = 0; u < config.upstreams.size(); ++u) {
    const UpstreamSpec& spec = config.upstreams[u];
    if (!spec.health_check) {
      continue;
    }
    for (const TargetSpec& t : spec.targets) {
      std::string key = spec.name + "/" + t.key;
      if (const auto same = known.find(key); same != known.end()) {
        (*board)[u].push_back(same->second.health);  // listed twice: one target, one check
        continue;
      }
      std::shared_ptr<TargetHealth> health;
      const auto it = known_.find(key);
      if (it != known_.end() && it->second.settings == *spec.health_check &&
          it->second.tls == spec.tls && it->second.name == t.name) {
        health = it->second.health;
      } else {
        health = std::make_shared<TargetHealth>();
      }
      (*board)[u].push_back(health);
      wanted.push_back({.upstream = spec.name,
                        .target = t,
                        .settings = *spec.health_check,
                        .tls = spec.client_tls,
                        .health = health});
      known.emplace(std::move(key), Known{*spec.health_check, spec.tls, t.name, std::move(health)});
    }
  }
  known_ = std::move(known);
  reactor_.post([this, wanted = std::move(wanted)]() mutable { reconcile(std::move(wanted)); });
  return board;
}

void HealthChecker::reconcile(std::vector<Wanted> wanted) {
  std::map<std::string, std::unique_ptr<Check>> checks;
  for (Wanted& w : wanted) {
    std::string key = w.upstream + "/" + w.target.key;
    auto it = checks_.find(key);
    if (it != checks_.end() && it->second && it->second->health() == w.health) {
      it->second->use_tls(std::move(w.tls));
      checks.emplace(std::move(key), std::move(it->second));  // same target, same checks
      continue;
    }
    if (checks.contains(key)) {
      continue;  // apply() hands each key out once: never two checks of one target
    }
    auto check = std::make_unique<Check>(reactor_, std::move(w));
    check->start_now();
    checks.emplace(std::move(key), std::move(check));
  }
  checks_ = std::move(checks);  // those no longer wanted stop here
}

}  // namespace vigil::l7

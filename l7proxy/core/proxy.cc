#include "l7proxy/core/proxy.h"

#include "common/logging.h"
#include "common/utc_time.h"
#include "l7proxy/core/listen_socket.h"
#include "l7proxy/core/resolved_targets.h"
#include "l7proxy/tls/client_tls.h"

namespace vigil::l7 {
namespace {

// For show: how an upstream's targets are spoken to.
std::string describe_tls(const UpstreamSpec& u) {
  if (!u.tls) {
    return "";
  }
  const UpstreamTlsSpec& t = *u.tls;
  std::string out = t.tls13_only ? "TLS 1.3" : "TLS 1.2 or 1.3";
  if (!t.verify) {
    out += ", certificates not verified";
  } else {
    out += ", certificates verified against ";
    out += t.ca_file.empty() ? "the system's trust store" : t.ca_file;
    out += t.server_name.empty() ? " for each target's name (or address)" : " for " + t.server_name;
  }
  if (t.certificate) {
    out += ", client certificate " + t.certificate->name;
  }
  return out;
}

void fill_health(const TargetHealth& h, api::L7TargetStatus& out) {
  switch (h.now()) {
    case TargetHealth::State::kUnchecked:
      out.health = "unchecked";
      break;
    case TargetHealth::State::kHealthy:
      out.health = "healthy";
      break;
    case TargetHealth::State::kUnhealthy:
      out.health = "unhealthy";
      break;
  }
  out.last_failure = check_failure_name(h.last_failure.load(std::memory_order_relaxed));
  out.last_failure_status = h.last_status.load(std::memory_order_relaxed);
  out.checks_passed = h.passed.load(std::memory_order_relaxed);
  out.checks_failed = h.failed.load(std::memory_order_relaxed);
}

TargetResolver::Settings resolver_settings(const ProxySettings& s) {
  return {.dns = s.dns, .min_ttl = s.dns_min_ttl, .max_ttl = s.dns_max_ttl};
}

}  // namespace

Proxy::Proxy(uint32_t workers, TargetResolver::Lookup lookup) : resolver_(std::move(lookup)) {
  resize(std::max<uint32_t>(workers, 1));
}

size_t Proxy::worker_count(const ProxyConfig& config) {
  return std::max<size_t>(config.settings.workers, 1);
}

void Proxy::resize(size_t count) {
  while (workers_.size() < count) {
    workers_.push_back(std::make_unique<Worker>(next_index_++));
  }
  // The newest go first: the first worker, there since the start, stays.
  while (workers_.size() > count) {
    workers_.back()->retire();
    retiring_.push_back(std::move(workers_.back()));
    workers_.pop_back();
  }
}

std::vector<Worker*> Proxy::all_workers() const {
  std::vector<Worker*> all;
  all.reserve(workers_.size() + retiring_.size());
  for (const auto* group : {&workers_, &retiring_}) {
    for (const auto& w : *group) {
      all.push_back(w.get());
    }
  }
  return all;
}

void Proxy::reap_retired() {
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    Worker& w = **it;
    if (!w.drained()) {
      ++it;
      continue;
    }
    // Its last totals are asked before it stops; a worker that does not answer in time (it
    // cannot be busy: it has no connection) is asked again next time.
    std::future<RequestTotals> asked = w.ask_request_totals();
    if (asked.valid()) {
      if (asked.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
        ++it;
        continue;
      }
      retired_totals_.merge(asked.get());
    }
    for (size_t c = 0; c < std::size(kWorkerCounters); ++c) {
      retired_counters_[c] +=
          (w.stats().*kWorkerCounters[c].member).load(std::memory_order_relaxed);
    }
    for (size_t c = 0; c < retired_responses_.size(); ++c) {
      retired_responses_[c] += w.stats().responses[c].load(std::memory_order_relaxed);
    }
    last_totals_.erase(&w);
    w.stop();
    it = retiring_.erase(it);
  }
}

Proxy::~Proxy() {
  stop();
}

void Proxy::stop() {
  checker_.stop();
  resolver_.stop();
  for (Worker* w : all_workers()) {
    w->stop();
  }
}

Expected<Proxy::TlsByListener> Proxy::load_tls(const ProxyConfig& config) const {
  TlsByListener out;
  for (const auto& l : config.listeners) {
    if (l.tls) {
      auto tls = ServerTls::load(*l.tls, tickets_, l.name);
      if (!tls) {
        return fail("listener " + l.name + ": " + tls.error());
      }
      out[l.name] = std::move(*tls);
    }
  }
  return out;
}

Expected<std::shared_ptr<const ProxyConfig>> Proxy::load_client_tls(
    std::shared_ptr<const ProxyConfig> config) {
  const auto& ups = config->upstreams;
  if (std::none_of(ups.begin(), ups.end(), [](const UpstreamSpec& u) { return u.tls; })) {
    return config;
  }
  auto loaded = std::make_shared<ProxyConfig>(*config);
  for (UpstreamSpec& u : loaded->upstreams) {
    if (u.tls) {
      auto tls = ClientTls::load(*u.tls, u.name);
      if (!tls) {
        return fail(tls.error());
      }
      u.client_tls = std::move(*tls);
    }
  }
  return std::shared_ptr<const ProxyConfig>(std::move(loaded));
}

Expected<std::shared_ptr<UniqueFd>> Proxy::open_log(const ProxyConfig& config) const {
  if (!config.access_log) {
    return std::shared_ptr<UniqueFd>();
  }
  return open_access_log(config.access_log->path);
}

Expected<Proxy::Prepared> Proxy::prepare(std::shared_ptr<const ProxyConfig> config) const {
  auto with_tls = load_client_tls(std::move(config));
  if (!with_tls) {
    return fail(with_tls.error());
  }
  config = std::move(*with_tls);
  if (const auto names = target_names(*config); !names.empty()) {
    resolver_.add(names, resolver_settings(config->settings));
  }
  Prepared p;
  for (const auto& l : config->listeners) {
    const std::string key = l.address.to_string();
    // A kept listener keeps its sockets (what waits in their queues is not lost), as many
    // as the workers now; more are bound for workers added.
    auto& fds = p.sockets[key];
    if (auto kept = sockets_.find(key); kept != sockets_.end()) {
      fds.assign(kept->second.begin(),
                 kept->second.begin() +
                     static_cast<ptrdiff_t>(std::min(kept->second.size(), worker_count(*config))));
    }
    for (size_t i = fds.size(); i < worker_count(*config); ++i) {
      auto fd = bind_listener(l.address);
      if (!fd) {
        return fail("listener " + l.name + ": " + fd.error());
      }
      fds.push_back(std::make_shared<UniqueFd>(std::move(*fd)));
      p.bound.emplace_back(l.address, fds.back());
    }
  }
  auto tls = load_tls(*config);
  if (!tls) {
    return fail(tls.error());
  }
  p.tls = std::move(*tls);
  auto file = open_log(*config);
  if (!file) {
    return fail(file.error());
  }
  p.access_log = std::move(*file);
  p.config = std::move(config);
  return p;
}

void Proxy::hand_out(const std::shared_ptr<const ProxyConfig>& config, const Sockets& sockets,
                     const TlsByListener& tls, const std::shared_ptr<UniqueFd>& access_log,
                     const std::shared_ptr<const HealthBoard>& health) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::vector<ListenerBinding> mine;
    for (const auto& l : config->listeners) {
      const auto t = tls.find(l.name);
      mine.push_back({.socket = sockets.at(l.address.to_string())[i],
                      .tls = t != tls.end() ? t->second : nullptr});
    }
    workers_[i]->apply(config, std::move(mine), access_log, health);
  }
  // Retiring workers take the config too (their kept-alive connections' next requests run on
  // it, their health board is the live one, their log the reopened one), with no listener.
  for (auto& w : retiring_) {
    w->apply(config, {}, access_log, health);
  }
}

Status Proxy::activate(Prepared prepared) {
  for (const auto& [address, fd] : prepared.bound) {
    if (auto st = start_listening(fd->get(), address); !st) {
      return fail(st.error() + " (the commit is not applied)");
    }
  }
  base_ = prepared.config;
  resolver_.use(target_names(*base_), resolver_settings(base_->settings));
  const TargetResolver::Snapshot names = resolver_.snapshot();
  resolved_version_ = names.version;
  prepared.config = with_resolved_targets(base_, names);
  health_ = checker_.apply(*prepared.config);
  // The sockets first: a worker retired below then holds the last reference to its own, and
  // lets it go (closing it) once it has taken what waits there.
  sockets_ = std::move(prepared.sockets);
  tls_ = std::move(prepared.tls);
  access_log_ = std::move(prepared.access_log);
  config_ = std::move(prepared.config);
  const size_t before = workers_.size();
  resize(worker_count(*config_));
  hand_out(config_, sockets_, tls_, access_log_, health_);
  if (!started_) {
    for (auto& w : workers_) {
      w->start();
    }
    started_ = true;
  } else {
    for (size_t i = before; i < workers_.size(); ++i) {
      workers_[i]->start();  // added by this commit
    }
  }
  return Ok{};
}

void Proxy::refresh_targets() {
  if (!base_ || resolver_.version() == resolved_version_) {
    return;
  }
  const TargetResolver::Snapshot names = resolver_.snapshot();
  resolved_version_ = names.version;
  config_ = with_resolved_targets(base_, names);
  health_ = checker_.apply(*config_);
  hand_out(config_, sockets_, tls_, access_log_, health_);
}

Status Proxy::reload() {
  if (!config_) {
    return Ok{};
  }
  // Each part on its own: a broken certificate must not keep logrotate's SIGHUP from moving
  // the log to its new file, nor a log that cannot open keep a renewed certificate out.
  std::string errors;
  if (auto file = open_log(*config_)) {
    access_log_ = std::move(*file);
  } else {
    errors = file.error();
  }
  if (auto tls = load_tls(*config_)) {
    tls_ = std::move(*tls);
  } else {
    errors += (errors.empty() ? "" : "; ") + tls.error() + " (the certificates stay as they were)";
  }
  if (auto loaded = load_client_tls(base_); !loaded) {
    errors +=
        (errors.empty() ? "" : "; ") + loaded.error() + " (the upstreams' TLS stays as it was)";
  } else if (*loaded != base_) {
    // The running config (its targets resolved) takes the new contexts, upstream by upstream.
    auto next = std::make_shared<ProxyConfig>(*config_);
    for (size_t i = 0; i < next->upstreams.size(); ++i) {
      next->upstreams[i].client_tls = (*loaded)->upstreams[i].client_tls;
    }
    base_ = std::move(*loaded);
    config_ = std::move(next);
    health_ = checker_.apply(*config_);
  }
  hand_out(config_, sockets_, tls_, access_log_, health_);
  if (!errors.empty()) {
    return fail(errors);
  }
  return Ok{};
}

nlohmann::json Proxy::stats() const {
  const auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  nlohmann::json out = {{"workers", workers_.size()}, {"workers_retiring", retiring_.size()}};
  const std::vector<Worker*> all = all_workers();
  for (size_t i = 0; i < std::size(kWorkerCounters); ++i) {
    uint64_t sum = retired_counters_[i];
    for (Worker* w : all) {
      sum += get(w->stats().*kWorkerCounters[i].member);
    }
    out[std::string(kWorkerCounters[i].key)] = sum;
  }
  nlohmann::json by_class = nlohmann::json::object();
  for (size_t c = 1; c < 6; ++c) {
    uint64_t sum = retired_responses_[c];
    for (Worker* w : all) {
      sum += get(w->stats().responses[c]);
    }
    by_class[std::to_string(c) + "xx"] = sum;
  }
  out["responses"] = std::move(by_class);
  nlohmann::json health = nlohmann::json::array();
  for (size_t p = 0; config_ && health_ && p < config_->upstreams.size(); ++p) {
    const UpstreamSpec& u = config_->upstreams[p];
    for (size_t t = 0; t < (*health_)[p].size() && t < u.targets.size(); ++t) {
      const TargetHealth& h = *(*health_)[p][t];
      health.push_back({{"upstream", u.name},
                        {"target", u.targets[t].key},
                        {"healthy", h.now() == TargetHealth::State::kHealthy},
                        {"passed", h.passed.load(std::memory_order_relaxed)},
                        {"failed", h.failed.load(std::memory_order_relaxed)}});
    }
  }
  out["health"] = std::move(health);
  // By route and upstream: each worker asked at once, 100 ms for all. A worker busy past it
  // counts with its last answer, so the sum never shrinks (Prometheus would take a shrinking
  // total for a restart and count it all again).
  std::vector<std::future<RequestTotals>> asked;
  asked.reserve(all.size());
  for (Worker* w : all) {
    asked.push_back(w->ask_request_totals());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  RequestTotals totals = retired_totals_;
  for (size_t i = 0; i < asked.size(); ++i) {
    RequestTotals& last = last_totals_[all[i]];
    if (asked[i].valid() && asked[i].wait_until(deadline) == std::future_status::ready) {
      last = asked[i].get();
    }
    totals.merge(last);
  }
  const auto json_of = [](const std::map<std::string, RequestCounts, std::less<>>& by_name) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, c] : by_name) {
      nlohmann::json responses = {{"none", c.by_class[0]}};
      for (size_t k = 1; k < c.by_class.size(); ++k) {
        responses[std::to_string(k) + "xx"] = c.by_class[k];
      }
      j[name] = {
          {"responses", responses}, {"latency_buckets", c.latency}, {"latency_sum", c.latency_sum}};
    }
    return j;
  };
  out["routes"] = json_of(totals.routes);
  out["upstreams"] = json_of(totals.upstreams);
  return out;
}

api::L7Status Proxy::show() const {
  api::L7Status out;
  out.workers = static_cast<uint32_t>(workers_.size());
  out.workers_retiring = static_cast<uint32_t>(retiring_.size());
  const nlohmann::json counters = stats();
  for (const auto& [key, value] : counters.items()) {
    if (value.is_number_unsigned() && key != "workers" && key != "workers_retiring") {
      out.counters[key] = value.get<uint64_t>();
    }
  }
  for (const auto& [status_class, count] : counters.at("responses").items()) {
    out.counters["responses_" + status_class] = count.get<uint64_t>();
  }
  if (!config_) {
    return out;
  }
  out.configured = true;
  for (const auto& l : config_->listeners) {
    api::L7ListenerStatus status{.name = l.name,
                                 .address = l.address.to_string(),
                                 .trust_forwarded = l.trust_forwarded,
                                 .sockets = static_cast<uint32_t>(workers_.size())};
    if (l.http2) {
      status.protocol = "http, h2c";
    }
    if (const auto t = tls_.find(l.name); t != tls_.end() && l.tls) {
      static constexpr const char* kClientCertificate[] = {"none", "optional", "required"};
      status.protocol = l.http2 ? "https, h2" : "https";
      status.client_certificate =
          kClientCertificate[static_cast<size_t>(l.tls->client_certificate)];
      for (const auto& c : t->second->certificates()) {
        status.certificates.push_back({.name = c.name,
                                       .dns_names = c.dns_names,
                                       .expires = utc_time_text(c.not_after),
                                       .ocsp_stapled = c.ocsp});
      }
    }
    out.listeners.push_back(std::move(status));
  }
  static constexpr const char* kPathMatch[] = {"any", "exact", "prefix", "regex"};
  for (size_t i = 0; i < config_->routes.size(); ++i) {
    const RouteSpec& r = config_->routes.at(i);
    out.routes.push_back({.name = r.name,
                          .priority = r.priority,
                          .hosts = r.hosts,
                          .path_match = kPathMatch[static_cast<size_t>(r.path_match)],
                          .path = r.path,
                          .methods = r.methods,
                          .upstream = r.upstream});
    if (const auto c = counters.at("routes").find(r.name); c != counters.at("routes").end()) {
      for (const auto& [status_class, count] : c->at("responses").items()) {
        out.routes.back().requests += count.get<uint64_t>();
      }
      out.routes.back().responses_5xx = c->at("responses").at("5xx").get<uint64_t>();
    }
  }
  for (size_t p = 0; p < config_->upstreams.size(); ++p) {
    const UpstreamSpec& u = config_->upstreams[p];
    api::L7UpstreamStatus status{.name = u.name,
                                 .policy = u.policy,
                                 .tls = describe_tls(u),
                                 .protocol = u.http2 ? "h2" : "http1"};
    for (size_t t = 0; t < u.targets.size(); ++t) {
      status.targets.push_back(
          {.address = u.targets[t].key, .name = u.targets[t].name, .weight = u.targets[t].weight});
      if (health_ && t < (*health_)[p].size()) {
        fill_health(*(*health_)[p][t], status.targets.back());
      }
    }
    if (!u.named.empty()) {
      const TargetResolver::Snapshot names = resolver_.snapshot();
      for (const NamedTarget& n : u.named) {
        api::L7TargetNameStatus shown{.name = n.host, .port = n.port};
        if (const auto it = names.names.find(n.host); it != names.names.end()) {
          for (const auto& a : it->second.addresses) {
            shown.addresses.push_back(a.to_string());
          }
          shown.error = it->second.error;
          shown.ttl_s = it->second.ttl_s;
          if (it->second.looked_up) {
            shown.last_lookup = utc_time_text(std::chrono::duration_cast<std::chrono::seconds>(
                                                  it->second.last_lookup.time_since_epoch())
                                                  .count());
          }
        }
        status.names.push_back(std::move(shown));
      }
    }
    out.upstreams.push_back(std::move(status));
  }
  // Every worker asked at once, then one deadline for all: a second at most in all.
  std::vector<std::future<Worker::TargetStates>> asked;
  const std::vector<Worker*> all = all_workers();
  asked.reserve(all.size());
  for (Worker* w : all) {
    asked.push_back(w->ask_target_states(config_.get()));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (auto& answer : asked) {
    if (!answer.valid() || answer.wait_until(deadline) != std::future_status::ready) {
      continue;  // not started, or busy past the deadline: counted without it
    }
    const Worker::TargetStates got = answer.get();
    const auto* states = &got;
    if (states->size() != out.upstreams.size()) {
      continue;  // not on this config yet
    }
    for (size_t p = 0; p < states->size(); ++p) {
      auto& targets = out.upstreams[p].targets;
      for (size_t t = 0; t < (*states)[p].size() && t < targets.size(); ++t) {
        const Worker::TargetState& s = (*states)[p][t];
        targets[t].in_flight += s.in_flight;
        targets[t].idle_connections += s.idle;
        targets[t].http2_connections += s.http2;
        targets[t].ejected_by += s.ejected ? 1 : 0;
        targets[t].ejected_for_ms = std::max(targets[t].ejected_for_ms, s.ejected_for_ms);
        targets[t].ejections += s.ejections;
      }
    }
  }
  return out;
}

}  // namespace vigil::l7

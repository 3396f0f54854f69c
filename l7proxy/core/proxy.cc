#include "l7proxy/core/proxy.h"

#include "l7proxy/core/listen_socket.h"

namespace vigil::l7 {

Proxy::Proxy(uint32_t workers) {
  for (uint32_t i = 0; i < std::max<uint32_t>(workers, 1); ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
  }
}

Proxy::~Proxy() {
  stop();
}

void Proxy::stop() {
  for (auto& w : workers_) {
    w->stop();
  }
}

Expected<Proxy::Prepared> Proxy::prepare(std::shared_ptr<const ProxyConfig> config) const {
  Prepared p;
  for (const auto& l : config->listeners) {
    const std::string key = l.address.to_string();
    if (auto kept = sockets_.find(key); kept != sockets_.end()) {
      p.sockets[key] = kept->second;
      continue;
    }
    auto& fds = p.sockets[key];
    for (size_t i = 0; i < workers_.size(); ++i) {
      auto fd = listen_on(l.address);
      if (!fd) {
        return fail("listener " + l.name + ": " + fd.error());
      }
      fds.push_back(std::make_shared<UniqueFd>(std::move(*fd)));
    }
  }
  if (config->access_log) {
    auto file = open_access_log(config->access_log->path);
    if (!file) {
      return fail(file.error());
    }
    p.access_log = std::move(*file);
  }
  p.config = std::move(config);
  return p;
}

void Proxy::activate(Prepared prepared) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::vector<std::shared_ptr<UniqueFd>> mine;
    for (const auto& l : prepared.config->listeners) {
      mine.push_back(prepared.sockets.at(l.address.to_string())[i]);
    }
    workers_[i]->apply(prepared.config, std::move(mine), prepared.access_log);
  }
  // The sockets of listeners gone close when the last worker lets go of them.
  sockets_ = std::move(prepared.sockets);
  config_ = std::move(prepared.config);
  if (!started_) {
    for (auto& w : workers_) {
      w->start();
    }
    started_ = true;
  }
}

Status Proxy::reopen_access_log() {
  if (!config_ || !config_->access_log) {
    return Ok{};
  }
  auto file = open_access_log(config_->access_log->path);
  if (!file) {
    return fail(file.error());
  }
  for (auto& w : workers_) {
    w->apply(config_, std::nullopt, *file);
  }
  return Ok{};
}

nlohmann::json Proxy::stats() const {
  uint64_t accepted = 0, refused = 0, active = 0, requests = 0, connects = 0, connect_failures = 0,
           reused = 0, retries = 0, ejections = 0, timeouts = 0, bad = 0, log_dropped = 0;
  std::array<uint64_t, 6> responses{};
  const auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (const auto& w : workers_) {
    const WorkerStats& s = w->stats();
    accepted += get(s.accepted);
    refused += get(s.refused_connections);
    active += get(s.active_connections);
    requests += get(s.requests);
    connects += get(s.upstream_connects);
    connect_failures += get(s.upstream_connect_failures);
    reused += get(s.upstream_reused);
    retries += get(s.retries);
    ejections += get(s.ejections);
    timeouts += get(s.timeouts);
    bad += get(s.bad_requests);
    log_dropped += get(s.access_log_dropped);
    for (size_t c = 1; c < responses.size(); ++c) {
      responses[c] += get(s.responses[c]);
    }
  }
  nlohmann::json by_class = nlohmann::json::object();
  for (size_t c = 1; c < responses.size(); ++c) {
    by_class[std::to_string(c) + "xx"] = responses[c];
  }
  return {{"workers", workers_.size()},
          {"connections_accepted", accepted},
          {"connections_refused", refused},
          {"connections_active", active},
          {"requests", requests},
          {"responses", by_class},
          {"bad_requests", bad},
          {"upstream_connects", connects},
          {"upstream_connect_failures", connect_failures},
          {"upstream_reused", reused},
          {"retries", retries},
          {"ejections", ejections},
          {"timeouts", timeouts},
          {"access_log_dropped", log_dropped}};
}

api::L7Status Proxy::show() const {
  api::L7Status out;
  out.workers = static_cast<uint32_t>(workers_.size());
  const nlohmann::json counters = stats();
  for (const auto& [key, value] : counters.items()) {
    if (value.is_number_unsigned() && key != "workers") {
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
    out.listeners.push_back({.name = l.name,
                             .address = l.address.to_string(),
                             .trust_forwarded = l.trust_forwarded,
                             .sockets = static_cast<uint32_t>(workers_.size())});
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
  }
  for (const auto& u : config_->upstreams) {
    api::L7UpstreamStatus status{.name = u.name, .policy = u.policy};
    for (const auto& t : u.targets) {
      status.targets.push_back({.address = t.key, .weight = t.weight});
    }
    out.upstreams.push_back(std::move(status));
  }
  // Every worker asked at once, then one deadline for all: a second at most in all.
  std::vector<std::future<Worker::TargetStates>> asked;
  for (const auto& w : workers_) {
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
        targets[t].ejected_by += s.ejected ? 1 : 0;
        targets[t].ejected_for_ms = std::max(targets[t].ejected_for_ms, s.ejected_for_ms);
        targets[t].ejections += s.ejections;
      }
    }
  }
  return out;
}

}  // namespace vigil::l7

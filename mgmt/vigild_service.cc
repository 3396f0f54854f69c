#include "mgmt/vigild_service.h"

#include <algorithm>

#include "common/json_rpc_client.h"
#include "common/yaml_file.h"
#include "config/document.h"
#include "config/edit.h"
#include "config/yaml_json.h"
#include "mgmt/commit/diff.h"
#include "mgmt/commit/rpc_component.h"
#include "mgmt/config_api.h"
#include "mgmt/store/atomic_file.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

namespace {

constexpr int kCommitFailed = -32010;

rpc::CallResult error(int code, std::string message, json data = nullptr) {
  return rpc::Error{code, std::move(message), std::move(data)};
}

json record_json(const store::CommitRecord& r) {
  return {
      {"seq", r.seq}, {"user", r.user}, {"time", r.time}, {"comment", r.comment}, {"kind", r.kind}};
}

}  // namespace

void add_vigild_options(DaemonSpec& spec, VigildSettings& s) {
  spec.extra_options.push_back({"state-dir", "committed configs (default /var/lib/vigil)",
                                [&s](const std::string& v) -> Status {
                                  s.state_dir = v;
                                  return Ok{};
                                }});
  spec.extra_options.push_back({"audit-log", "audit file (default /var/log/vigil/audit.log)",
                                [&s](const std::string& v) -> Status {
                                  s.audit_log = v;
                                  return Ok{};
                                }});
  spec.extra_options.push_back(
      {"component", "NAME=SOCKET to commit to, repeatable (default vigil-dp and vigil-l7)",
       [&s](const std::string& v) -> Status {
         const auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
           return fail("expected NAME=SOCKET, got \"" + v + "\"");
         }
         if (!s.components_from_command_line) {
           s.components.clear();
           s.components_from_command_line = true;
         }
         s.components.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return Ok{};
       }});
  spec.extra_options.push_back(
      {"supervise", "NAME=BINARY: start and restart this component (its socket from --component)",
       [&s](const std::string& v) -> Status {
         const auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == v.size() || v[eq + 1] != '/') {
           return fail("expected NAME=/absolute/path/to/binary, got \"" + v + "\"");
         }
         s.supervise.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return Ok{};
       }});
  spec.extra_options.push_back(
      {"confirm-unit-seconds", "seconds per minute of `commit confirmed` (tests only; 60)",
       [&s](const std::string& v) -> Status {
         try {
           s.confirm_unit_seconds = std::stoll(v);
         } catch (const std::exception&) {
           return fail("expected a number of seconds, got \"" + v + "\"");
         }
         return s.confirm_unit_seconds > 0 ? Status(Ok{}) : Status(fail("must be positive"));
       }});
}

VigildService::VigildService(VigildSettings settings, Daemon& daemon)
    : settings_(std::move(settings)), daemon_(daemon), audit_(settings_.audit_log) {
  commits_ = &daemon.metrics().counter("vigil_mgmt_commits_total",
                                       "Commits by kind and result (ok, rejected, failed)");
  rollbacks_ = &daemon.metrics().counter(
      "vigil_mgmt_rollbacks_total",
      "Rollbacks: reason confirm-timeout (automatic) or operator (rollback N loaded)");
  denied_ = &daemon.metrics().counter("vigil_mgmt_denied_requests_total",
                                      "API requests refused for lack of a role, by method");
  register_config_methods(daemon.dispatcher(), daemon.metrics());
  register_methods();
}

Status VigildService::start(EventLoop& loop) {
  auto store = store::ConfigStore::open(settings_.state_dir);
  if (!store) {
    return fail(store.error());
  }
  store_ = std::make_unique<store::ConfigStore>(std::move(store).value());
  auto file_text = store::read_file(daemon_.args().config_path);
  if (store_->commit_count() == 0 && store_->running_text().empty() && file_text) {
    // First boot: the file (already validated) becomes commit 1 directly. It does not go
    // through the components' prepare: the box must come up and stay reachable whatever a
    // component thinks, and components take the running config when they connect.
    auto r = store_->commit(*file_text, {.user = "vigild",
                                         .comment = "imported from " + daemon_.args().config_path,
                                         .kind = "initial"});
    if (!r) {
      return fail("cannot import " + daemon_.args().config_path + ": " + r.error());
    }
    audit_.record("commit", {{"kind", "initial"}, {"seq", r->seq}});
  } else if (file_text && *file_text != store_->running_text()) {
    log::warn("the config file differs from the running config; the committed one is in force",
              {{"config", daemon_.args().config_path}, {"state_dir", settings_.state_dir}});
  }
  // After the import: the engine reads the running config once, here.
  std::vector<commit::ComponentPtr> components;
  for (const auto& [name, socket] : settings_.components) {
    components.push_back(std::make_unique<commit::RpcComponent>(name, socket));
  }
  engine_ = std::make_unique<commit::CommitEngine>(
      *store_, std::move(components), commit::system_unix_clock, settings_.confirm_unit_seconds);
  refresh_running();
  if (auto p = store_->pending()) {
    log::warn("a commit confirmed is waiting for confirmation",
              {{"commit", p->commit_seq}, {"deadline", p->deadline}});
  }
  std::vector<ChildSpec> children;
  for (const auto& supervised : settings_.supervise) {
    const std::string& name = supervised.first;
    const std::string& binary = supervised.second;
    auto it = std::find_if(settings_.components.begin(), settings_.components.end(),
                           [&name](const auto& c) { return c.first == name; });
    if (it == settings_.components.end()) {
      std::string message = "--supervise ";
      message.append(name).append(" has no --component ").append(name).append("=SOCKET");
      return fail(std::move(message));
    }
    // Components start from the committed running config; its header line is a comment.
    children.push_back(
        {name,
         {binary, "--config", settings_.state_dir + "/running.yaml", "--socket", it->second}});
  }
  if (!children.empty()) {
    supervisor_ = std::make_unique<Supervisor>(loop, daemon_.metrics(), std::move(children));
    supervisor_->start_all();
  }
  auto timer = loop.add_timer(std::chrono::seconds(1), [this] { on_tick(); });
  if (!timer) {
    return fail(timer.error());
  }
  // Restarts are due at half-second granularity; a faster tick keeps backoff honest.
  auto restart_timer = loop.add_timer(std::chrono::milliseconds(100), [this] {
    if (supervisor_) {
      supervisor_->tick();
    }
  });
  return restart_timer ? Status(Ok{}) : Status(fail(restart_timer.error()));
}

void VigildService::stop() {
  if (supervisor_) {
    supervisor_->stop_all();
  }
}

void VigildService::refresh_running() {
  running_ = engine_->running_config();
  apply_monitoring();
}

void VigildService::apply_monitoring() {
  const auto& m = running_.monitoring;
  const std::string want = m.prometheus_enabled ? m.prometheus_listen.to_string() : "";
  if (want == metrics_listen_ && (want.empty() || metrics_endpoint_)) {
    return;
  }
  metrics_endpoint_.reset();  // unbind first: the new address may be the same port
  metrics_listen_ = want;
  if (want.empty()) {
    log::info("Prometheus endpoint disabled by monitoring.prometheus.enabled");
    return;
  }
  auto ep = MetricsEndpoint::start(want, daemon_.metrics(), settings_.components);
  if (!ep) {
    // Management must stay reachable even if the metrics port is taken.
    log::error("Prometheus endpoint not serving", {{"error", ep.error()}});
    return;
  }
  metrics_endpoint_ = std::move(*ep);
  log::info("serving Prometheus metrics", {{"listen", want}, {"path", "/metrics"}});
}

void VigildService::on_tick() {
  engine_->reconcile();
  auto outcome = engine_->tick();
  if (!outcome) {
    return;
  }
  if (outcome->ok()) {
    commits_->Add({{"kind", "confirm-timeout"}, {"result", "ok"}}).Increment();
    rollbacks_->Add({{"reason", "confirm-timeout"}}).Increment();
    audit_.record("rollback", {{"reason", "commit confirmed not confirmed in time"},
                               {"seq", (*outcome)->record.seq}});
    refresh_running();
  } else {
    commits_->Add({{"kind", "confirm-timeout"}, {"result", "failed"}}).Increment();
    log::error("automatic rollback failed; retrying", {{"error", outcome->error()}});
  }
}

void VigildService::add(const std::string& method, Role need, Handler handler) {
  daemon_.dispatcher().add(
      method,
      [this, method, need, handler = std::move(handler)](
          const json& params, const rpc::CallContext& ctx) -> rpc::CallResult {
        const Caller caller = identify(ctx.peer.uid, running_);
        if (!allowed(caller.role, need)) {
          denied_->Add({{"method", method}}).Increment();
          audit_.record(
              "denied",
              {{"user", caller.user}, {"role", role_name(caller.role)}, {"method", method}});
          return error(rpc::kPermissionDenied,
                       "permission denied: " + caller.user + " (role " + role_name(caller.role) +
                           ") may not call " + method + ", which needs " +
                           std::string(config::kRoleNames[static_cast<size_t>(need)]));
        }
        if (!engine_) {
          return error(rpc::kInternalError, "vigild is still starting");
        }
        return handler(params, caller);
      });
}

VigildService::Candidate& VigildService::candidate_of(const json& params, const Caller& caller) {
  // One private candidate per session; the one-shot CLI uses one per user.
  const std::string key = params.value("session", "user:" + caller.user);
  auto [it, fresh] = candidates_.try_emplace(key);
  if (fresh || !it->second.modified) {
    it->second.text = store_->running_text();
    it->second.document.reset();
    it->second.validated.reset();
  }
  return it->second;
}

rpc::CallResult VigildService::commit(const json& params, const Caller& caller) {
  Candidate& cand = candidate_of(params, caller);
  std::optional<int> confirm;
  if (params.contains("confirm_minutes")) {
    const int m = params.at("confirm_minutes").get<int>();
    if (m < 1 || m > 65535) {
      return rpc::invalid_params("confirm_minutes must be 1 to 65535");
    }
    confirm = m;
  }
  const std::string comment = params.value("comment", "");
  const bool reuse = cand.document.has_value() && cand.validated.has_value();
  auto r = engine_->commit({.text = cand.text,
                            .user = caller.user,
                            .comment = comment,
                            .confirm_minutes = confirm,
                            .document = reuse ? &*cand.document : nullptr,
                            .validated = reuse ? &*cand.validated : nullptr});
  if (!r) {
    commits_->Add({{"kind", "commit"}, {"result", "failed"}}).Increment();
    audit_.record("commit", {{"user", caller.user}, {"result", "failed"}, {"error", r.error()}});
    return error(kCommitFailed, "commit failed: " + r.error());
  }
  commits_->Add({{"kind", "commit"}, {"result", "ok"}}).Increment();
  audit_.record("commit", {{"user", caller.user},
                           {"result", "ok"},
                           {"seq", r->record.seq},
                           {"comment", comment},
                           {"confirm_minutes", confirm.value_or(0)}});
  cand.modified = false;
  refresh_running();
  json out = {{"commit", record_json(r->record)},
              {"changed_sections", r->changed_sections},
              {"applied_by", r->applied_by},
              {"not_running", r->not_running}};
  if (r->confirm_deadline) {
    out["confirm_deadline"] = *r->confirm_deadline;
  }
  return out;
}

void VigildService::register_methods() {
  add("show.configuration", Role::kViewer, [this](const json& p, const Caller&) -> rpc::CallResult {
    const size_t n = p.value("rollback", size_t{0});
    auto seq = store_->seq_of_rollback(n);
    if (n == 0 && !seq) {
      return json{{"text", store_->running_text()}, {"seq", 0}};
    }
    if (!seq) {
      return rpc::invalid_params(seq.error());
    }
    auto text = store_->text_of(*seq);
    if (!text) {
      return error(rpc::kInternalError, text.error());
    }
    return json{{"text", *text}, {"seq", *seq}};
  });

  add("show.commits", Role::kViewer, [this](const json&, const Caller&) -> rpc::CallResult {
    json commits = json::array();
    size_t n = 0;
    for (const auto& r : store_->history()) {
      json j = record_json(r);
      j["rollback"] = n++;
      commits.push_back(j);
    }
    json pending = nullptr;
    if (auto p = engine_->pending()) {
      pending = {{"commit", p->commit_seq},
                 {"rollback_to", p->rollback_to_seq},
                 {"deadline", p->deadline},
                 {"user", p->user}};
    }
    return json{{"commits", commits}, {"pending_confirm", pending}};
  });

  add("compare", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const size_t n = p.value("rollback", size_t{0});
    std::string from = store_->running_text();
    if (n > 0) {
      auto seq = store_->seq_of_rollback(n);
      if (!seq) {
        return rpc::invalid_params(seq.error());
      }
      from = store_->text_of(*seq).value();
    }
    const std::string& to = candidate_of(p, c).text;
    // Both sides in canonical form, so the diff shows what changed, not how it was written.
    auto canonical = [](const std::string& text) {
      auto doc = parse_yaml(text, "compare");
      return doc ? config::emit(*doc) : text;
    };
    return json{{"diff", commit::unified_diff(canonical(from), canonical(to),
                                              n == 0 ? "running" : "rollback " + std::to_string(n),
                                              "candidate")}};
  });

  add("candidate.show", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const Candidate& cand = candidate_of(p, c);
    return json{{"text", cand.text}, {"modified", cand.modified}};
  });

  add("candidate.load", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const std::string text = p.at("text").get<std::string>();
    const std::string mode = p.value("mode", "replace");
    if (mode != "replace" && mode != "merge") {
      return rpc::invalid_params("mode must be replace or merge, got \"" + mode + "\"");
    }
    auto doc = parse_yaml(text, p.value("origin", "loaded file"));
    if (!doc) {
      return rpc::invalid_params(doc.error());
    }
    Candidate& cand = candidate_of(p, c);
    cand.document.reset();
    cand.validated.reset();
    config::ParseResult check;
    if (mode == "replace") {
      cand.text = text;
      check = config::parse_document(*doc);
      // Kept for the commit: the same text need not be parsed and checked twice.
      cand.document = *doc;
      cand.validated = check;
    } else {
      auto base = parse_yaml(cand.text, "candidate");
      cand.text = config::emit(config::merge(base ? *base : YAML::Node(YAML::NodeType::Map), *doc));
      // Checked from the merged text, so error positions point into what `save` writes.
      check = config::parse_text(cand.text, "candidate");
    }
    cand.modified = true;
    return json{{"valid", check.ok()}, {"errors", errors_json(check.errors)}};
  });

  for (const bool is_set : {true, false}) {
    add(is_set ? "candidate.set" : "candidate.delete", Role::kAdmin,
        [this, is_set](const json& p, const Caller& c) -> rpc::CallResult {
          const auto words = p.at("words").get<std::vector<std::string>>();
          Candidate& cand = candidate_of(p, c);
          auto doc = parse_yaml(cand.text, "candidate");
          if (!doc) {
            return rpc::invalid_params("the candidate is not valid YAML; load a file: " +
                                       doc.error());
          }
          YAML::Node edited = *doc;
          auto st = is_set ? config::set_path(edited, words) : config::delete_path(edited, words);
          if (!st) {
            return rpc::invalid_params(st.error());
          }
          // Edits give canonical YAML: comments and layout of a loaded file do not survive.
          cand.text = config::emit(edited);
          cand.modified = true;
          cand.document.reset();
          cand.validated.reset();
          config::ParseResult check = config::parse_text(cand.text, "candidate");
          return json{{"valid", check.ok()}, {"errors", errors_json(check.errors)}};
        });
  }

  add("complete", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const auto words = p.value("words", std::vector<std::string>{});
    auto doc = parse_yaml(candidate_of(p, c).text, "candidate");
    return config::next_words(doc ? *doc : YAML::Node(YAML::NodeType::Map), words);
  });

  add("candidate.rollback", Role::kAdmin,
      [this](const json& p, const Caller& c) -> rpc::CallResult {
        const size_t n = p.at("rollback").get<size_t>();
        auto seq = store_->seq_of_rollback(n);
        if (!seq) {
          return rpc::invalid_params(seq.error());
        }
        Candidate& cand = candidate_of(p, c);
        cand.text = store_->text_of(*seq).value();
        cand.modified = true;
        cand.document.reset();
        cand.validated.reset();
        audit_.record("rollback", {{"user", c.user}, {"loaded", n}, {"seq", *seq}});
        rollbacks_->Add({{"reason", "operator"}}).Increment();
        return json{{"loaded_seq", *seq}};
      });

  add("candidate.discard", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    candidate_of(p, c) = Candidate{.text = store_->running_text()};
    return json::object();
  });

  add("commit", Role::kAdmin,
      [this](const json& p, const Caller& c) -> rpc::CallResult { return commit(p, c); });

  add("show.processes", Role::kViewer, [this](const json&, const Caller&) -> rpc::CallResult {
    json out = json::array();
    for (const auto& [name, socket] : settings_.components) {
      json entry = {
          {"name", name},
          {"socket", socket},
          {"supervised", false},
          {"reachable", engine_->reachable().contains(name) && engine_->reachable().at(name)}};
      if (supervisor_) {
        for (const auto& child : supervisor_->state()) {
          if (child["name"] == name) {
            entry.update(child);
            entry["supervised"] = true;
          }
        }
      }
      out.push_back(entry);
    }
    return out;
  });

  // Operational state that lives in vigil-dp, fetched on demand.
  auto from_vigil_dp = [this](const char* method) -> rpc::CallResult {
    for (const auto& [name, socket] : settings_.components) {
      if (name == "vigil-dp") {
        rpc::Client client(socket);
        auto r = client.call(method);
        if (rpc::is_error(r)) {
          const auto& e = std::get<rpc::Error>(r);
          return error(e.code, "vigil-dp: " + e.message);
        }
        return std::get<json>(r);
      }
    }
    return error(kCommitFailed,
                 "no vigil-dp component is configured (--component vigil-dp=SOCKET)");
  };
  add("show.classifier", Role::kViewer,
      [from_vigil_dp](const json&, const Caller&) { return from_vigil_dp("classifier.show"); });
  add("show.dataplane", Role::kViewer,
      [from_vigil_dp](const json&, const Caller&) { return from_vigil_dp("dataplane.show"); });

  add("confirm", Role::kAdmin, [this](const json&, const Caller& c) -> rpc::CallResult {
    if (auto st = engine_->confirm(c.user); !st) {
      return error(kCommitFailed, st.error());
    }
    audit_.record("confirm", {{"user", c.user}});
    return json::object();
  });
}

}  // namespace vigil::mgmt

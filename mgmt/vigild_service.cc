// vigild's service: the store, the commit engine, supervision and the Prometheus endpoint
// started from the running config, the 1 s tick (reconcile, commit confirmed deadlines), and
// the role check every method passes. The methods live by area in vigild_*_methods.cc.
#include "mgmt/vigild_service.h"

#include <malloc.h>

#include <algorithm>
#include <filesystem>

#include "common/pid_file.h"
#include "common/privileges.h"
#include "common/subprocess.h"
#include "mgmt/api_errors.h"
#include "mgmt/commit/rpc_component.h"
#include "mgmt/config_api.h"
#include "mgmt/frr_component.h"
#include "mgmt/store/atomic_file.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

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
      {"supervise-user",
       "NAME=USER: the supervised component runs as USER once its socket is bound (vigil-l7)",
       [&s](const std::string& v) -> Status {
         const auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
           return fail("expected NAME=USER, got \"" + v + "\"");
         }
         // The others need root throughout: vigil-dp loads BPF programs and drives NICs.
         if (v.substr(0, eq) != "vigil-l7") {
           return fail("only vigil-l7 runs as another user, got \"" + v + "\"");
         }
         s.supervise_user.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return Ok{};
       }});
  spec.extra_options.push_back(
      {"frr",
       "RUN_DIR: run Vigil's FRR instance (zebra with FPM, bgpd, bfdd, staticd), its "
       "sockets and pid files in RUN_DIR, and commit the routing section to it",
       [&s](const std::string& v) -> Status {
         if (!v.starts_with('/')) {
           return fail("expected an absolute directory, got \"" + v + "\"");
         }
         s.frr_run_dir = v;
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

// The user a supervised component is told to become, checked to exist now: a typo is a
// start-up error, not a component that fails to start forever.
Status VigildService::run_as(ChildSpec& child) const {
  for (const auto& [name, user_name] : settings_.supervise_user) {
    if (name != child.name) {
      continue;
    }
    auto user = look_up_user(user_name);
    if (!user) {
      std::string message = "--supervise-user ";
      message.append(name).append("=").append(user_name).append(": ").append(user.error());
      return fail(std::move(message));
    }
    child.argv.insert(child.argv.end(), {"--user", user_name});
  }
  return Ok{};
}

VigildService::VigildService(VigildSettings settings, Daemon& daemon)
    : settings_(std::move(settings)),
      daemon_(daemon),
      audit_(settings_.audit_log),
      proxy_(settings_.components) {
  commits_ = &daemon.metrics().counter(
      "vigil_mgmt_commits_total",
      "Commits by kind and result (ok, rejected, failed, nothing: no change)");
  rollbacks_ = &daemon.metrics().counter(
      "vigil_mgmt_rollbacks_total",
      "Rollbacks: reason confirm-timeout (automatic) or operator (rollback N loaded)");
  denied_ = &daemon.metrics().counter("vigil_mgmt_denied_requests_total",
                                      "API requests refused for lack of a role, by method");
  validation_errors_ = &daemon.metrics().counter("vigil_mgmt_validation_errors_total",
                                                 "Config errors reported by the validate method");
  register_methods();
}

Status VigildService::start(EventLoop& loop) {
  loop_ = &loop;
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
  std::vector<ChildSpec> children;
  if (!settings_.frr_run_dir.empty()) {
    if (auto st = start_frr(components, children); !st) {
      return st;
    }
  }
  engine_ = std::make_unique<commit::CommitEngine>(
      *store_, std::move(components), commit::system_unix_clock, settings_.confirm_unit_seconds);
  candidates_ = std::make_unique<Candidates>(*store_);
  engine_worker_ = std::make_unique<WorkerPool>(1, kMaxQueuedEngineJobs);
  proxy_workers_ = std::make_unique<WorkerPool>(kProxyThreads, kMaxQueuedProxyCalls);
  parse_workers_ = std::make_unique<WorkerPool>(kParseThreads, kMaxQueuedParses);
  enrolment_ = std::make_unique<mesh::Enrolment>(
      mesh::EnrolmentContext{.loop = loop,
                             .audit = audit_,
                             .engine = *engine_,
                             .engine_worker = *engine_worker_,
                             .refresh_running = [this] { refresh_running(); },
                             .state_dir = settings_.state_dir});
  refresh_running();
  if (auto p = store_->pending()) {
    log::warn("a commit confirmed is waiting for confirmation",
              {{"commit", p->commit_seq}, {"deadline", p->deadline}});
  }
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
    ChildSpec child{
        .name = name,
        .argv = {binary, "--config", settings_.state_dir + "/running.yaml", "--socket", it->second},
        .socket = it->second,
    };
    if (auto st = run_as(child); !st) {
      return st;
    }
    children.push_back(std::move(child));
  }
  for (const auto& named : settings_.supervise_user) {
    if (std::none_of(children.begin(), children.end(),
                     [&named](const ChildSpec& c) { return c.name == named.first; })) {
      std::string message = "--supervise-user ";
      message.append(named.first).append("=").append(named.second).append(": ");
      message.append(named.first).append(" is not supervised (no --supervise for it)");
      return fail(std::move(message));
    }
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

Status VigildService::start_frr(std::vector<commit::ComponentPtr>& components,
                                std::vector<ChildSpec>& children) {
  bgp::FrrLayout layout{.run_dir = settings_.frr_run_dir, .conf_dir = settings_.state_dir + "/frr"};
  if (std::string missing = bgp::missing_frr_programs(layout); !missing.empty()) {
    return fail("--frr: " + missing + " is not installed");
  }
  // A distribution FRR in the same network namespace: each zebra removes the other's routes
  // at start, and two bgpd share port 179 (SO_REUSEPORT) and each other's sessions.
  if (const pid_t other = pid_file_lock_holder("/run/frr/zebra.pid");
      other > 0 && other != pid_file_lock_holder(layout.pid_file("zebra"))) {
    std::error_code ec;
    const auto theirs =
        std::filesystem::read_symlink("/proc/" + std::to_string(other) + "/ns/net", ec);
    const auto ours = std::filesystem::read_symlink("/proc/self/ns/net", ec);
    if (!theirs.empty() && theirs == ours) {
      return fail("--frr: the distribution's FRR runs in this network namespace (zebra, pid " +
                  std::to_string(other) +
                  "); Vigil runs its own: stop and disable it (systemctl disable --now frr)");
    }
  }
  if (auto st = bgp::prepare_frr_directories(layout); !st) {
    return fail("--frr: " + st.error());
  }
  for (std::string_view daemon : bgp::kFrrDaemons) {
    ChildSpec child{.name = "frr-" + std::string(daemon),
                    .argv = bgp::frr_daemon_argv(layout, daemon),
                    .pid_file = layout.pid_file(daemon),
                    .pid_file_user = layout.user};
    if (daemon != "zebra") {
      child.start_after_path = layout.run_dir + "/zserv.api";
    } else {
      for (std::string_view other : bgp::kFrrDaemons) {
        if (other != "zebra") {
          child.restart_with.push_back("frr-" + std::string(other));
        }
      }
    }
    children.push_back(std::move(child));
  }
  frr_ = std::make_unique<bgp::FrrControl>(std::move(layout), run_command);
  register_bgp_metrics();
  auto component = std::make_unique<FrrComponent>(*frr_);
  // vigil-l7 as this reconcile found it (it comes before FRR among the components): its
  // listeners' addresses follow it. Called on the engine's thread, once engine_ exists.
  component->set_l7_reachable([this]() -> std::optional<bool> {
    const auto reachable = engine_->reachable();
    const auto l7 = reachable.find("vigil-l7");
    if (l7 == reachable.end()) {
      return std::nullopt;
    }
    return l7->second;
  });
  components.push_back(std::move(component));
  return Ok{};
}

void VigildService::stop() {
  // Joins: a job under way finishes (a commit within its components' deadlines); its answer,
  // posted to a loop that no longer runs, is dropped with the connection.
  parse_workers_.reset();
  proxy_workers_.reset();
  engine_worker_.reset();
  // After the engine's worker, whose jobs (the mesh's commits) use it; its own threads give up
  // within 100 ms once it goes (what they post to the stopped loop is dropped).
  enrolment_.reset();
  if (supervisor_) {
    supervisor_->stop_all();
  }
}

void VigildService::on_hangup() {
  const std::string path = daemon_.args().config_path;
  const bool taken = off_loop(
      *parse_workers_,
      [this, path]() -> std::function<void()> {
        auto text = store::read_file(path);
        if (!text) {
          return [path, error = text.error()] {
            log::warn("SIGHUP: nothing reloaded; cannot read the config file",
                      {{"config", path}, {"error", error}});
          };
        }
        size_t error_count = 0;
        nlohmann::json checked = validate_text({.text = *text, .origin = path}, error_count);
        return [this, path, text = std::move(*text), checked = std::move(checked)] {
          const auto running = store_->running();
          if (text == running.text) {
            log::info("SIGHUP: nothing reloaded; the config file is the running config",
                      {{"config", path}, {"seq", running.seq}});
            return;
          }
          log::warn(
              "SIGHUP: nothing reloaded; the config file differs from the running config. "
              "vigild's config changes only by commit: vigil load replace FILE, vigil commit",
              {{"config", path}, {"seq", running.seq}, {"valid", checked.value("valid", false)}});
          for (const auto& e : checked.value("errors", nlohmann::json::array())) {
            log::warn("the config file would be refused",
                      {{"config", path}, {"error", e.value("text", "")}});
          }
        };
      },
      [](const std::string&) {}, /*trim=*/true);
  if (!taken) {
    log::warn(
        "SIGHUP: nothing reloaded; documents are waiting to be parsed, the config file "
        "was not compared",
        {{"config", path}});
  }
}

void VigildService::refresh_running() {
  running_ = engine_->running_config();
  apply_monitoring();
  if (enrolment_) {
    enrolment_->apply(running_);
  }
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
  if (frr_ && --bgp_poll_countdown_ <= 0) {
    bgp_poll_countdown_ = 5;  // seconds: vtysh twice, a few ms each
    poll_bgp_metrics();
  }
  if (tick_in_flight_) {
    return;  // the last one is still waiting for a component (or behind a commit)
  }
  tick_in_flight_ = off_loop(
      *engine_worker_,
      [this]() -> std::function<void()> {
        // A due rollback first: after a restart, reconcile would otherwise give the components
        // the unconfirmed config once more just before taking it away.
        auto outcome = engine_->tick();
        engine_->reconcile();
        return [this, outcome = std::move(outcome)] {
          tick_in_flight_ = false;
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
        };
      },
      [this](const std::string&) { tick_in_flight_ = false; }, /*trim=*/false);
}

bool VigildService::off_loop(WorkerPool& pool, std::function<std::function<void()>()> job,
                             Thrown thrown, bool trim) {
  return pool.submit([loop = loop_, job = std::move(job), thrown = std::move(thrown), trim] {
    std::function<void()> then;
    try {
      then = job();
    } catch (const std::exception& e) {
      log::error("vigild's work off the loop failed", {{"error", e.what()}});
      then = [thrown, what = std::string(e.what())] { thrown(what); };
    }
    loop->post([then = std::move(then), trim] {
      then();
      if (trim) {
        // A document parsed or committed leaves hundreds of MB of freed YAML nodes: give
        // them back to the system rather than keep the peak for good.
        malloc_trim(0);
      }
    });
  });
}

void VigildService::off_loop_parse(const Caller& caller, std::function<std::function<void()>()> job,
                                   const rpc::Reply& reply) {
  const uid_t uid = caller.uid;
  if (parsing_[uid] >= 1) {
    reply(api_error(rpc::kServerBusy,
                    "server busy: a document of yours is being parsed already; wait for it"));
    return;
  }
  ++parsing_[uid];
  auto done_parsing = [this, uid] {
    if (--parsing_[uid] == 0) {
      parsing_.erase(uid);
    }
  };
  const bool taken = off_loop(
      *parse_workers_,
      [done_parsing, job = std::move(job)] {
        std::function<void()> then = job();
        return std::function<void()>([done_parsing, then = std::move(then)] {
          done_parsing();
          then();
        });
      },
      [done_parsing, reply](const std::string& what) {
        done_parsing();
        reply(api_error(rpc::kInternalError, "internal error: " + what));
      },
      /*trim=*/true);
  if (!taken) {
    done_parsing();
    reply(
        api_error(rpc::kServerBusy, "server busy: " + std::to_string(kMaxQueuedParses) +
                                        " documents are waiting to be parsed; try again shortly"));
  }
}

void VigildService::proxy_call(const std::string& component, const std::string& method,
                               const rpc::Reply& reply, nlohmann::json params) {
  auto answer = std::make_shared<rpc::CallResult>();
  const bool taken = off_loop(
      *proxy_workers_,
      [this, component, method, reply, answer, params = std::move(params)] {
        *answer = proxy_.call(component, method, params);
        return std::function<void()>([reply, answer] { reply(std::move(*answer)); });
      },
      [reply](const std::string& what) {
        reply(api_error(rpc::kInternalError, "internal error: " + what));
      });
  if (!taken) {
    reply(api_error(rpc::kServerBusy,
                    "server busy: " + std::to_string(kMaxQueuedProxyCalls) +
                        " calls to components are waiting already; try again shortly"));
  }
}

void VigildService::add(const std::string& method, Role need, Handler handler) {
  required_roles_[method] = need;
  daemon_.dispatcher().add(method,
                           [this, handler = std::move(handler)](
                               const json& params, const rpc::CallContext& ctx) -> rpc::CallResult {
                             if (!engine_) {
                               return api_error(rpc::kInternalError, "vigild is still starting");
                             }
                             auto result = handler(params, identify(ctx.peer.uid, running_));
                             candidates_->release_unmodified();
                             return result;
                           });
}

std::optional<rpc::Error> VigildService::authorize(std::string_view method,
                                                   const rpc::CallContext& ctx) {
  const Caller caller = identify(ctx.peer.uid, running_);
  const auto need = required_roles_.find(method);
  if (need != required_roles_.end() && allowed(caller.role, need->second)) {
    return std::nullopt;
  }
  const std::string name(method);
  denied_->Add({{"method", name}}).Increment();
  audit_.record("denied",
                {{"user", caller.user}, {"role", role_name(caller.role)}, {"method", name}});
  if (need == required_roles_.end()) {
    // Fail closed: a method someone forgot to give a role is nobody's.
    log::error("a method has no role; refusing it", {{"method", name}});
    return api_error(rpc::kPermissionDenied, "permission denied: " + name + " has no role");
  }
  return api_error(rpc::kPermissionDenied,
                   "permission denied: " + caller.user + " (role " + role_name(caller.role) +
                       ") may not call " + name + ", which needs " +
                       std::string(config::kRoleNames[static_cast<size_t>(need->second)]));
}

void VigildService::add_deferred(const std::string& method, Role need, DeferredHandler handler) {
  required_roles_[method] = need;
  daemon_.dispatcher().add_deferred(
      method, [this, handler = std::move(handler)](const json& params, const rpc::CallContext& ctx,
                                                   const rpc::Reply& reply) {
        if (!engine_) {
          reply(api_error(rpc::kInternalError, "vigild is still starting"));
          return;
        }
        handler(params, identify(ctx.peer.uid, running_), [this, reply](rpc::CallResult r) {
          candidates_->release_unmodified();
          reply(std::move(r));
        });
      });
}

CandidateKey VigildService::own_key(const json& params, const Caller& caller) {
  // The owner comes from the socket, only the session from the request.
  return {.owner = caller.user, .session = params.value("session", Candidates::kDefaultSession)};
}

Expected<Candidate*> VigildService::candidate_of(const json& params, const Caller& caller) {
  return candidates_->of(own_key(params, caller));
}

void VigildService::register_methods() {
  // Every call passes authorize(); methods not added through add() get their role here.
  for (const char* method : {"status", "version", "methods", "metrics", "config.sections"}) {
    required_roles_[method] = Role::kViewer;
  }
  for (const char* method : {"prepare", "activate", "abort"}) {
    required_roles_[method] = Role::kAdmin;  // and vigild's own user (rpc::Access::kOwner)
  }
  daemon_.dispatcher().set_guard([this](std::string_view method, const rpc::CallContext& ctx) {
    return authorize(method, ctx);
  });
  register_candidate_methods();
  register_parsing_methods();
  register_commit_methods();
  register_operational_methods();
  register_mesh_methods();
  register_bgp_methods();
}

}  // namespace vigil::mgmt

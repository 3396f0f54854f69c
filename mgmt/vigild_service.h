// vigild's configuration service: per-user candidates, commit / commit confirmed / confirm,
// rollback, compare, history, each one API method guarded by role and recorded in the audit
// log. The CLI is a thin front end over these methods.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bgp/frr/frr_control.h"
#include "common/api/bgp_status.h"
#include "common/daemon.h"
#include "common/event_loop.h"
#include "common/worker_pool.h"
#include "config/config.h"
#include "mgmt/audit_log.h"
#include "mgmt/candidates.h"
#include "mgmt/commit/commit_engine.h"
#include "mgmt/component_proxy.h"
#include "mgmt/mesh/enrolment.h"
#include "mgmt/metrics_endpoint.h"
#include "mgmt/roles.h"
#include "mgmt/supervisor.h"

namespace vigil::mgmt {

struct VigildSettings {
  std::string state_dir = "/var/lib/vigil";
  std::string audit_log = "/var/log/vigil/audit.log";
  // Components vigild commits to, by name and control socket.
  std::vector<std::pair<std::string, std::string>> components = {
      {"vigil-dp", "/run/vigil/dp.sock"}, {"vigil-l7", "/run/vigil/l7.sock"}};
  bool components_from_command_line = false;
  // Components vigild starts and restarts itself, by name and binary (--supervise).
  std::vector<std::pair<std::string, std::string>> supervise;
  // Supervised components started with --user USER, by name (--supervise-user NAME=USER).
  std::vector<std::pair<std::string, std::string>> supervise_user;
  // With --frr RUN_DIR: vigild runs Vigil's FRR instance (its daemons supervised, their
  // sockets and pid files in RUN_DIR; frr.conf in state_dir/frr) and commits the routing
  // section to it. "": no FRR.
  std::string frr_run_dir;
  // How long "commit confirmed 1" waits. 60 s in production; tests shorten it.
  int64_t confirm_unit_seconds = 60;
};

// Adds --state-dir, --audit-log, --component NAME=SOCKET and --confirm-unit-seconds.
void add_vigild_options(DaemonSpec& spec, VigildSettings& settings);

class VigildService {
 public:
  VigildService(VigildSettings settings, Daemon& daemon);

  // Opens the store (importing the --config file as the first commit on a new box), builds
  // the commit engine, starts the supervised components and the 1 s timer.
  Status start(EventLoop& loop);
  // Lets the work under way with components finish (at most their deadlines), then stops the
  // supervised components.
  void stop();
  // SIGHUP: says whether --config differs from the running config and how to apply it; never
  // applies it (a file would undo commits behind the candidates' and the audit log's back).
  void on_hangup();

  // vigild serves every caller from one thread and never waits on a component there: commits,
  // confirms and the tick's reconcile run one at a time on the engine's worker, `show` calls
  // forwarded to a component on a few threads of their own (their answers come back through
  // the loop). How many may wait for each, beyond those running:
  static constexpr size_t kMaxQueuedEngineJobs = 16;
  static constexpr size_t kProxyThreads = 4;
  static constexpr size_t kMaxQueuedProxyCalls = 16;
  // Parsing a document (validate, candidate.load) takes up to 2 s for 4 MiB: on threads of its
  // own too, one document per user at a time.
  static constexpr size_t kParseThreads = 2;
  static constexpr size_t kMaxQueuedParses = 8;

 private:
  using Handler = std::function<rpc::CallResult(const nlohmann::json&, const Caller&)>;
  // Answers later through `reply` (on the loop's thread): for work done off the loop.
  using DeferredHandler = std::function<void(const nlohmann::json&, const Caller&, rpc::Reply)>;

  void register_methods();
  // Adds --user to a supervised component's arguments when --supervise-user names it.
  Status run_as(ChildSpec& child) const;
  // candidate.show|load|set|delete|rollback|discard, complete, compare
  void register_candidate_methods();
  // commit, confirm, show.configuration, show.commits
  void register_commit_methods();
  // show.processes, and show.classifier|dataplane from vigil-dp
  void register_operational_methods();
  void register_mesh_methods();
  // show.bgp.summary|neighbors|routes, from FRR's JSON
  void register_bgp_methods();
  // Asks FRR for its sessions off the loop (the tick, every few seconds) and exports them.
  void poll_bgp_metrics();
  void register_bgp_metrics();
  // nullptr: FRR did not answer.
  void export_bgp_metrics(const api::BgpSummary* summary);
  // Starts FRR's daemons beside the components (--frr) and adds FRR to the commit.
  Status start_frr(std::vector<commit::ComponentPtr>& components, std::vector<ChildSpec>& children);
  // Registers `method` for callers with at least role `need`.
  void add(const std::string& method, config::Role need, Handler handler);
  void add_deferred(const std::string& method, config::Role need, DeferredHandler handler);
  // Runs `job` on `pool`; the function it returns then runs on the loop's thread, followed by
  // malloc_trim when `trim` (after parsing or committing a document). If `job` throws,
  // `thrown` runs on the loop instead, with what it said (it must answer whoever waits).
  // False, and nothing runs, when the pool's queue is full.
  using Thrown = std::function<void(const std::string& what)>;
  bool off_loop(WorkerPool& pool, std::function<std::function<void()>()> job, Thrown thrown,
                bool trim = false);
  // Runs `job` on the parse threads for `caller` (one at a time per user); else replies busy.
  void off_loop_parse(const Caller& caller, std::function<std::function<void()>()> job,
                      const rpc::Reply& reply);
  // validate and candidate.load, which parse off the loop.
  void register_parsing_methods();
  // The caller's candidate (params' "session") made what `parse` computes from its text now,
  // on the parse threads; refused if the candidate changed before the result is back.
  void change_candidate_off_loop(
      const nlohmann::json& params, const Caller& caller,
      std::function<Expected<Candidates::Loaded>(const std::string&)> parse, rpc::Reply reply);
  // vigil-dp's `method`, answered through `reply` once it answers (or its deadline passes).
  void proxy_call(const std::string& component, const std::string& method, const rpc::Reply& reply,
                  nlohmann::json params = nlohmann::json::object());
  // The dispatcher's guard: the caller's role against the method's, denials counted and
  // audited. A method without a role is refused.
  std::optional<rpc::Error> authorize(std::string_view method, const rpc::CallContext& ctx);
  // The caller's candidate key for params' "session" (default "cli").
  static CandidateKey own_key(const nlohmann::json& params, const Caller& caller);
  // The caller's candidate for params' "session" (default "cli").
  Expected<Candidate*> candidate_of(const nlohmann::json& params, const Caller& caller);
  // For candidate.show and compare: the caller's own candidate, or with params' "owner" another
  // user's (admins only, audited). Fills `error` when refused.
  const Candidate* readable_candidate(const nlohmann::json& params, const Caller& caller,
                                      rpc::Error& error);
  void refresh_running();
  // (Re)starts /metrics to match monitoring.prometheus of the running config.
  void apply_monitoring();
  void on_tick();
  void commit(const nlohmann::json& params, const Caller& caller, rpc::Reply reply);

  VigildSettings settings_;
  Daemon& daemon_;
  AuditLog audit_;
  std::unique_ptr<store::ConfigStore> store_;
  std::unique_ptr<commit::CommitEngine> engine_;
  config::Config running_;  // parsed running config, for roles
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<bgp::FrrControl> frr_;  // with --frr
  struct BgpMetrics {
    prometheus::Family<prometheus::Gauge>* answering = nullptr;
    prometheus::Family<prometheus::Gauge>* state = nullptr;
    prometheus::Family<prometheus::Gauge>* established = nullptr;
    prometheus::Family<prometheus::Gauge>* uptime = nullptr;
    prometheus::Family<prometheus::Gauge>* prefixes = nullptr;
    std::map<std::string, std::set<std::string>> exported;  // neighbour -> its families
    int failed_polls = 0;
  } bgp_metrics_;
  bool bgp_poll_in_flight_ = false;
  int bgp_poll_countdown_ = 0;
  std::string metrics_listen_;              // what metrics_endpoint_ is bound to; "" when off
  std::unique_ptr<Candidates> candidates_;  // over store_
  ComponentProxy proxy_;
  std::map<std::string, config::Role, std::less<>> required_roles_;
  prometheus::Family<prometheus::Counter>* commits_ = nullptr;
  prometheus::Family<prometheus::Counter>* denied_ = nullptr;
  prometheus::Family<prometheus::Counter>* rollbacks_ = nullptr;
  EventLoop* loop_ = nullptr;
  bool tick_in_flight_ = false;   // the tick's engine job has not come back yet
  std::map<uid_t, int> parsing_;  // parse jobs in flight, by caller
  prometheus::Family<prometheus::Counter>* validation_errors_ = nullptr;
  // Last: their threads use everything above, so they stop first.
  std::unique_ptr<WorkerPool> engine_worker_;
  std::unique_ptr<WorkerPool> proxy_workers_;
  std::unique_ptr<WorkerPool> parse_workers_;
  // Uses engine_worker_ (its commits) and the loop: stop() resets it after the workers.
  std::unique_ptr<mesh::Enrolment> enrolment_;
};

}  // namespace vigil::mgmt

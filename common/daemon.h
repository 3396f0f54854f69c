// What every Vigil daemon does the same way: parse the command line, load the config file,
// serve JSON-RPC on its control socket (status, version, metrics), log, notify systemd, stop
// cleanly on SIGTERM/SIGINT. A daemon adds its own methods in the setup callback and stays free
// of this plumbing. The config changes only by vigild's commits (prepare/activate), never by
// re-reading a file: SIGHUP says so in the log, and vigild says whether its file differs.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/config_transaction.h"
#include "common/expected.h"
#include "common/json_rpc.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace vigil {

class EventLoop;

// A command-line option one daemon adds to the common ones: --name VALUE.
struct ExtraOption {
  std::string name;  // without dashes: "state-dir"
  std::string help;
  std::function<Status(const std::string& value)> set;
};

struct DaemonSpec {
  std::string name;            // process name, also the log component: "vigil-dp"
  std::string summary;         // one line for --help
  std::string default_socket;  // "/run/vigil/dp.sock"
  // What this build does not do yet. Logged as a warning at start and returned by `status`,
  // so nobody mistakes a skeleton for a working component.
  std::string not_implemented;
  // Checks a loaded config document before it is used, at start. A
  // failure's message may span lines (one error each); each line is logged.
  std::function<Status(const YAML::Node&)> validate_config;
  // Largest request line on the control socket. vigild raises it: whole config documents
  // travel in its requests.
  size_t max_request_bytes = 1 << 20;
  std::vector<ExtraOption> extra_options;
  // Top-level config sections this process applies when vigild commits (config.sections).
  // A skeleton applies none, so vigild never asks it to apply anything.
  std::vector<std::string> applies_sections;
  // Whether it takes --user NAME: once its control socket is bound it runs as NAME, keeping
  // of root only these capabilities (common/privileges.h). A daemon that faces the network
  // sets this; one that needs root throughout (vigil-dp: BPF, DPDK) does not.
  bool runs_as_user = false;
  std::vector<int> keeps_capabilities;
};

struct DaemonArgs {
  std::string config_path = "/etc/vigil/vigil.yaml";
  std::string socket_path;  // defaults to the spec's socket
  log::Level log_level = log::Level::kInfo;
  std::string user;  // --user: whom to run as once the socket is bound (runs_as_user only)
  bool show_help = false;
  bool show_version = false;
};

// Parses argv[1..]. Errors say which argument is wrong.
Expected<DaemonArgs> parse_daemon_args(const DaemonSpec& spec,
                                       const std::vector<std::string>& args);
std::string daemon_usage(const DaemonSpec& spec);

// Exit codes, from sysexits.h so init systems and scripts can tell them apart.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;        // EX_USAGE: bad command line
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: could not start serving
inline constexpr int kExitConfig = 78;       // EX_CONFIG: the config file is unusable

class Daemon {
 public:
  Daemon(DaemonSpec spec, DaemonArgs args);

  rpc::Dispatcher& dispatcher() { return dispatcher_; }
  MetricsRegistry& metrics() { return metrics_; }
  const YAML::Node& config() const { return config_; }
  const DaemonSpec& spec() const { return spec_; }
  const DaemonArgs& args() const { return args_; }

  // Called on SIGHUP instead of the default log line (which says nothing is reloaded).
  void on_hangup(std::function<void()> hook) { hangup_hook_ = std::move(hook); }

  // vigild's commit: at prepare, parses and checks a delta ({section: content}) once and
  // returns what activate will run (common/config_transaction.h). An activation that fails
  // fails vigild's commit, which then restores the components already activated.
  void on_prepare(PrepareHook hook) { transaction_.on_prepare(std::move(hook)); }

  // Called once the control socket serves, on the loop thread, before READY is sent; a
  // failure stops the daemon with kExitUnavailable. For timers and start-up work.
  void on_start(std::function<Status(EventLoop&)> hook) { start_hook_ = std::move(hook); }

  // Called on SIGTERM/SIGINT while the loop still exists, before the socket closes.
  void on_stop(std::function<void()> hook) { stop_hook_ = std::move(hook); }

  // Serves until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  Status become_user();
  void register_builtin_methods();
  void hangup();
  Status check(const Expected<YAML::Node>& doc) const;
  nlohmann::json status_json() const;

  DaemonSpec spec_;
  DaemonArgs args_;
  rpc::Dispatcher dispatcher_;
  MetricsRegistry metrics_;
  YAML::Node config_;
  std::function<void()> hangup_hook_;
  std::function<Status(EventLoop&)> start_hook_;
  std::function<void()> stop_hook_;
  ConfigTransaction transaction_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  prometheus::Family<prometheus::Counter>* rpc_calls_ = nullptr;
};

// The whole main() of a daemon: parse args, build the Daemon, let `setup` add methods, run.
int daemon_main(const DaemonSpec& spec, int argc, char** argv,
                const std::function<void(Daemon&)>& setup = {});

nlohmann::json version_json(std::string_view name);

}  // namespace vigil

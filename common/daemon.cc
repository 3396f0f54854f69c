#include "common/daemon.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/event_loop.h"
#include "common/json_rpc_server.h"
#include "common/privileges.h"
#include "common/sd_notify.h"
#include "common/signals.h"
#include "common/unix_socket.h"
#include "common/yaml_file.h"
#include "version.h"  // generated at the build root

namespace vigil {

using nlohmann::json;

std::string daemon_usage(const DaemonSpec& spec) {
  return "Usage: " + spec.name + " [--config FILE] [--socket PATH] [--log-level LEVEL]\n" +
         spec.summary +
         "\n\n"
         "  -c, --config FILE      configuration (default /etc/vigil/vigil.yaml)\n"
         "  -s, --socket PATH      control socket (default " +
         spec.default_socket +
         ")\n"
         "  -l, --log-level LEVEL  debug, info, warn or error (default info, or "
         "$VIGIL_LOG_LEVEL)\n" +
         std::string(spec.runs_as_user ? "  -u, --user NAME        run as NAME once the control "
                                         "socket is bound (start as root)\n"
                                       : "") +
         "  -V, --version          print the version and exit\n"
         "  -h, --help             print this help and exit\n" +
         [&] {
           std::string extra;
           for (const ExtraOption& o : spec.extra_options) {
             extra += "      --" + o.name + " VALUE  " + o.help + "\n";
           }
           return extra;
         }();
}

Expected<DaemonArgs> parse_daemon_args(const DaemonSpec& spec,
                                       const std::vector<std::string>& args) {
  DaemonArgs out;
  out.socket_path = spec.default_socket;
  if (const char* env = std::getenv("VIGIL_LOG_LEVEL"); env != nullptr) {
    if (auto level = log::parse_level(env)) {
      out.log_level = *level;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string_view name) -> Expected<std::string> {
      if (const auto eq = arg.find('='); eq != std::string::npos) {
        return arg.substr(eq + 1);
      }
      if (i + 1 >= args.size()) {
        return fail("option " + std::string(name) + " needs a value");
      }
      return args[++i];
    };
    auto is = [&](std::string_view s, std::string_view l) {
      return arg == s || arg == l || arg.starts_with(std::string(l) + "=");
    };
    if (arg == "-h" || arg == "--help") {
      out.show_help = true;
    } else if (arg == "-V" || arg == "--version") {
      out.show_version = true;
    } else if (is("-c", "--config")) {
      auto v = value("--config");
      if (!v) {
        return fail(v.error());
      }
      out.config_path = *v;
    } else if (is("-s", "--socket")) {
      auto v = value("--socket");
      if (!v) {
        return fail(v.error());
      }
      out.socket_path = *v;
    } else if (spec.runs_as_user && is("-u", "--user")) {
      auto v = value("--user");
      if (!v) {
        return fail(v.error());
      }
      if (v->empty()) {
        return fail("--user needs a user name");
      }
      out.user = *v;
    } else if (is("-l", "--log-level")) {
      auto v = value("--log-level");
      if (!v) {
        return fail(v.error());
      }
      auto level = log::parse_level(*v);
      if (!level) {
        return fail("--log-level must be debug, info, warn or error, got \"" + *v + "\"");
      }
      out.log_level = *level;
    } else {
      const ExtraOption* extra = nullptr;
      for (const ExtraOption& o : spec.extra_options) {
        if (arg == "--" + o.name || arg.starts_with("--" + o.name + "=")) {
          extra = &o;
        }
      }
      if (extra == nullptr) {
        return fail("unknown argument \"" + arg + "\" (see --help)");
      }
      auto v = value("--" + extra->name);
      if (!v) {
        return fail(v.error());
      }
      if (auto st = extra->set(*v); !st) {
        return fail("--" + extra->name + ": " + st.error());
      }
    }
  }
  return out;
}

json version_json(std::string_view name) {
  return {{"name", name},
          {"version", VIGIL_VERSION},
          {"commit", VIGIL_COMMIT},
          {"compiler", __VERSION__}};
}

Daemon::Daemon(DaemonSpec spec, DaemonArgs args)
    : spec_(std::move(spec)),
      args_(std::move(args)),
      transaction_(spec_.name, spec_.applies_sections) {
  rpc_calls_ =
      &metrics_.counter("vigil_control_requests_total",
                        "JSON-RPC calls served on the control socket, by method and result");
  metrics_
      .gauge("vigil_process_start_time_seconds", "Start time of the process since the Unix epoch")
      .Add({})
      .Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()));
  dispatcher_.set_observer([this](std::string_view method, bool failed) {
    rpc_calls_->Add({{"method", std::string(method)}, {"result", failed ? "error" : "ok"}})
        .Increment();
  });
  register_builtin_methods();
}

json Daemon::status_json() const {
  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  json sections = json::array();
  for (const auto& kv : config_) {
    sections.push_back(kv.first.as<std::string>());
  }
  json out = {
      {"name", spec_.name},          {"version", VIGIL_VERSION},    {"pid", ::getpid()},
      {"state", "running"},          {"uptime_seconds", uptime},    {"config", args_.config_path},
      {"config_sections", sections}, {"socket", args_.socket_path}, {"user", current_user_name()}};
  if (!spec_.not_implemented.empty()) {
    out["not_implemented"] = spec_.not_implemented;
  }
  return out;
}

void Daemon::register_builtin_methods() {
  dispatcher_.add("status", [this](const json&, const rpc::CallContext&) -> rpc::CallResult {
    return status_json();
  });
  dispatcher_.add("version", [this](const json&, const rpc::CallContext&) -> rpc::CallResult {
    return version_json(spec_.name);
  });
  dispatcher_.add("metrics", [this](const json& p, const rpc::CallContext&) -> rpc::CallResult {
    if (p.is_object() && p.value("format", "") == "json") {
      return json{{"format", "json"}, {"families", metrics_.to_json()}};
    }
    return json{{"format", "prometheus-text-0.0.4"}, {"text", metrics_.serialize()}};
  });
  dispatcher_.add("methods", [this](const json&, const rpc::CallContext&) -> rpc::CallResult {
    return dispatcher_.methods();
  });

  // The component side of vigild's two-phase commit: config changes, so vigild's user only.
  dispatcher_.add("config.sections",
                  [this](const json&, const rpc::CallContext&) -> rpc::CallResult {
                    return spec_.applies_sections;
                  });
  dispatcher_.add(
      "prepare",
      [this](const json& p, const rpc::CallContext&) -> rpc::CallResult {
        if (auto st = transaction_.prepare(p.at("txid").get<uint64_t>(), p.at("delta")); !st) {
          return rpc::invalid_params(st.error());
        }
        return json::object();
      },
      rpc::Access::kOwner);
  dispatcher_.add(
      "activate",
      [this](const json& p, const rpc::CallContext&) -> rpc::CallResult {
        bool restarts = false;
        if (auto st = transaction_.activate(p.at("txid").get<uint64_t>(), &restarts); !st) {
          return rpc::Error{rpc::kActivateFailed, st.error()};
        }
        // Applied by starting again: vigild tells the operator.
        return restarts ? json{{"restarting", true}} : json::object();
      },
      rpc::Access::kOwner);
  dispatcher_.add(
      "abort",
      [this](const json& p, const rpc::CallContext&) -> rpc::CallResult {
        transaction_.abort(p.value("txid", uint64_t{0}));
        return json::object();
      },
      rpc::Access::kOwner);
}

namespace {

void log_error_lines(std::string_view what, const std::string& config, const std::string& errors) {
  size_t start = 0;
  while (start < errors.size()) {
    size_t nl = errors.find('\n', start);
    if (nl == std::string::npos) {
      nl = errors.size();
    }
    if (nl > start) {
      log::error(what, {{"config", config},
                        {"error", std::string_view(errors).substr(start, nl - start)}});
    }
    start = nl + 1;
  }
}

}  // namespace

Status Daemon::check(const Expected<YAML::Node>& doc) const {
  if (!doc) {
    return fail(doc.error());
  }
  return spec_.validate_config ? spec_.validate_config(*doc) : Status(Ok{});
}

void Daemon::hangup() {
  if (hangup_hook_) {
    hangup_hook_();
    return;
  }
  // A component's config is what vigild last committed to it; reading --config again would
  // undo commits behind vigild's back, so SIGHUP (systemctl reload, a habit) changes nothing.
  log::info(
      "SIGHUP: nothing reloaded; the config changes only by commit (vigil load, vigil "
      "commit), which vigild applies to every component",
      {{"config", args_.config_path}});
}

// After the control socket (under /run, root's) and before the start hook: what the daemon
// reads and binds from its config, at start as at every commit, it does as that user.
Status Daemon::become_user() {
  if (args_.user.empty()) {
    if (spec_.runs_as_user && ::geteuid() == 0) {
      log::warn("running as root: start it with --user (vigild: --supervise-user " + spec_.name +
                "=vigil) so that it keeps only what it needs");
    }
    return Ok{};
  }
  auto user = look_up_user(args_.user);
  if (!user) {
    return fail(user.error());
  }
  // The control sockets' group admits operators to every daemon: a process that faces the
  // network must not carry it, or a flaw in it reaches vigild and vigil-dp.
  if (const std::string& operators = ListenOptions{}.group; is_member(*user, operators)) {
    return fail("user " + user->name + " is a member of group " + operators +
                ", which opens every Vigil control socket; give it a group of its own (groupadd "
                "--system vigil-l7; usermod -g vigil-l7 " +
                user->name + ")");
  }
  if (auto st = drop_privileges(*user, spec_.keeps_capabilities); !st) {
    return st;
  }
  std::string kept;
  for (int c : spec_.keeps_capabilities) {
    kept += (kept.empty() ? "" : ",") + capability_name(c);
  }
  log::info(
      "running as " + user->name,
      {{"uid", user->uid}, {"gid", user->gid}, {"capabilities", kept.empty() ? "none" : kept}});
  return Ok{};
}

int Daemon::run() {
  auto doc = load_yaml_file(args_.config_path);
  if (auto st = check(doc); !st) {
    log_error_lines("config rejected", args_.config_path, st.error());
    return kExitConfig;
  }
  config_ = *doc;

  // Signals are blocked before any thread exists, so only the signalfd ever sees them.
  auto signals = SignalWatcher::install();
  if (!signals) {
    log::error("cannot set up signals", {{"error", signals.error()}});
    return kExitUnavailable;
  }
  EventLoop loop;
  if (!loop.valid()) {
    log::error("cannot create event loop");
    return kExitUnavailable;
  }
  rpc::Server server(
      loop, dispatcher_,
      rpc::ServerOptions{.path = args_.socket_path, .max_request_bytes = spec_.max_request_bytes});
  if (auto st = server.start(); !st) {
    log::error("cannot serve control socket", {{"error", st.error()}});
    return kExitUnavailable;
  }
  int stop_signal = 0;
  if (auto st = signals->attach(loop, {.stop =
                                           [&](int signo) {
                                             stop_signal = signo;
                                             loop.stop();
                                           },
                                       .hangup = [this] { hangup(); }});
      !st) {
    log::error("cannot watch signals", {{"error", st.error()}});
    return kExitUnavailable;
  }

  auto expiry = loop.add_timer(std::chrono::seconds(1), [this] {
    if (auto txid = transaction_.expire()) {
      log::warn("dropped a prepared change that was never activated",
                {{"txid", *txid}, {"after_seconds", ConfigTransaction::kPreparedLifetime.count()}});
    }
  });
  if (!expiry) {
    log::error("cannot start the transaction timer", {{"error", expiry.error()}});
    return kExitUnavailable;
  }

  if (auto st = become_user(); !st) {
    log::error("cannot drop privileges", {{"error", st.error()}});
    server.stop();
    return kExitUnavailable;
  }
  if (start_hook_) {
    if (auto st = start_hook_(loop); !st) {
      log::error("cannot start", {{"error", st.error()}});
      server.stop();
      return kExitUnavailable;
    }
  }
  log::info("started", {{"version", VIGIL_VERSION},
                        {"commit", VIGIL_COMMIT},
                        {"config", args_.config_path},
                        {"socket", args_.socket_path},
                        {"pid", ::getpid()}});
  if (!spec_.not_implemented.empty()) {
    log::warn("this build is incomplete", {{"not_implemented", spec_.not_implemented}});
  }
  systemd::notify_ready("serving on " + args_.socket_path);

  loop.run();

  systemd::notify_stopping();
  if (stop_hook_) {
    stop_hook_();
  }
  server.stop();
  log::info("stopped", {{"signal", stop_signal == 0 ? "none" : sigabbrev_np(stop_signal)}});
  return kExitOk;
}

int daemon_main(const DaemonSpec& spec, int argc, char** argv,
                const std::function<void(Daemon&)>& setup) {
  log::set_component(spec.name);
  auto args = parse_daemon_args(spec, std::vector<std::string>(argv + 1, argv + argc));
  if (!args) {
    std::cerr << spec.name << ": " << args.error() << "\n";
    return kExitUsage;
  }
  if (args->show_help) {
    std::cout << daemon_usage(spec);
    return kExitOk;
  }
  if (args->show_version) {
    std::cout << spec.name << " " << VIGIL_VERSION << " (" << VIGIL_COMMIT << ")\n";
    return kExitOk;
  }
  log::set_level(args->log_level);
  Daemon daemon(spec, *args);
  if (setup) {
    setup(daemon);
  }
  return daemon.run();
}

}  // namespace vigil

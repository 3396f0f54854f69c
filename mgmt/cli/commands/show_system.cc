// show version, show system status|commit|processes: vigild itself and its history.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/api/vigild_answers.h"
#include "common/daemon.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {

std::string utc_time(int64_t unix_seconds) {
  char when[32] = "?";
  const time_t t = unix_seconds;
  struct tm tm_utc {};
  if (gmtime_r(&t, &tm_utc) != nullptr) {
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm_utc);
  }
  return when;
}

namespace {

Output show_version(Invocation& inv) {
  auto daemon = inv.call("version", nlohmann::json::object(), "cannot get the version of vigild");
  if (!daemon) {
    return daemon.failure();
  }
  const auto cli = version_json("vigil");
  if (inv.json) {
    return {.out = json_text(nlohmann::json::array({cli, *daemon}))};
  }
  TablePrinter table({"component", "version", "commit"});
  for (const auto& v : {cli, *daemon}) {
    table.add_row({v.value("name", "?"), v.value("version", "?"), v.value("commit", "?")});
  }
  return {.out = table.render()};
}

Output show_status(Invocation& inv) {
  auto s = inv.call("status", nlohmann::json::object(), "cannot get the status of vigild");
  if (!s) {
    return s.failure();
  }
  if (inv.json) {
    return {.out = json_text(*s)};
  }
  TablePrinter table({"process", "state", "pid", "uptime", "config"});
  char uptime[32];
  snprintf(uptime, sizeof uptime, "%.0fs", s->value("uptime_seconds", 0.0));
  table.add_row({s->value("name", "?"), s->value("state", "?"), std::to_string(s->value("pid", 0)),
                 uptime, s->value("config", "?")});
  Output o{.out = table.render()};
  if (s->contains("not_implemented")) {
    o.out += "\nnot implemented yet: " + member(*s, "not_implemented").get<std::string>() + "\n";
  }
  return o;
}

Output show_commits(Invocation& inv) {
  auto r = inv.call("show.commits", nlohmann::json::object(), "cannot list commits");
  if (!r) {
    return r.failure();
  }
  const auto history = r->get<api::CommitHistory>();
  if (inv.json) {
    return {.out = json_text(history)};
  }
  TablePrinter table({"rollback", "commit", "time (UTC)", "user", "kind", "comment"});
  for (const auto& c : history.commits) {
    table.add_row({std::to_string(c.rollback), std::to_string(c.seq), utc_time(c.time), c.user,
                   c.kind, c.comment});
  }
  Output o{.out = table.render()};
  if (const auto& p = history.pending_confirm) {
    const int64_t left = p->deadline - time(nullptr);
    o.out += "\ncommit " + std::to_string(p->commit) + " by " + p->user +
             " must be confirmed within " + std::to_string(std::max<int64_t>(left, 0)) +
             " s, or rollback to commit " + std::to_string(p->rollback_to) + " happens\n";
  }
  if (!history.pending_problem.empty()) {
    o.err += "warning: a commit confirmed record could not be read (" + history.pending_problem +
             "); no automatic rollback will happen: commit to confirm, or roll back by hand\n";
  }
  return o;
}

Output show_processes(Invocation& inv) {
  auto r = inv.call("show.processes", nlohmann::json::object(), "cannot list processes");
  if (!r) {
    return r.failure();
  }
  const auto processes = r->get<std::vector<api::ProcessStatus>>();
  if (inv.json) {
    return {.out = json_text(processes)};
  }
  TablePrinter table({"component", "state", "pid", "user", "restarts", "last exit", "socket"});
  for (const auto& p : processes) {
    const std::string state =
        p.supervised ? p.state : (p.reachable ? "reachable" : "not reachable");
    table.add_row({p.name, state, p.supervised && p.pid > 0 ? std::to_string(p.pid) : "-",
                   p.user.empty() ? "-" : p.user, p.supervised ? std::to_string(p.restarts) : "-",
                   p.last_exit.empty() ? "-" : p.last_exit, p.socket});
  }
  return {.out = table.render()};
}

}  // namespace

void add_show_system_commands(CommandTable& t) {
  t.add({.words = {"show", "version"},
         .help = "versions of this CLI and of vigild",
         .run = show_version});
  t.add({.words = {"show", "system", "status"},
         .help = "vigild's process state, uptime and config file",
         .run = show_status});
  t.add({.words = {"show", "system", "commit"},
         .help = "commit history and any commit waiting for confirmation",
         .run = show_commits});
  t.add({.words = {"show", "system", "processes"},
         .help = "components: supervised state, pid, user, restarts, reachability",
         .run = show_processes});
}

}  // namespace vigil::mgmt::cli

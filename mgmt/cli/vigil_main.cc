// vigil: the operator CLI. Every command is one JSON-RPC call to vigild, so what the CLI can
// do, automation can do too. One-shot mode only at this commit.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/daemon.h"
#include "common/json_rpc_client.h"
#include "mgmt/cli/command_table.h"
#include "mgmt/cli/interactive.h"
#include "mgmt/cli/table_printer.h"
#include "version.h"  // generated at the build root

namespace vigil::cli {

struct Invocation {
  rpc::Client& vigild;
  std::vector<std::string> args;
  bool json = false;
};

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;  // vigild could not be reached
constexpr int kExitFailed = 1;        // vigild answered with an error

int report_error(const rpc::Error& e, const std::string& what) {
  std::cerr << "vigil: " << what << ": " << e.message << "\n";
  return e.code == rpc::kTransportError || e.code == rpc::kTimeout ? kExitUnavailable : kExitFailed;
}

// Calls `method`; on failure prints why and returns the exit code through `rc`.
std::optional<nlohmann::json> call(Invocation& inv, std::string_view method,
                                   const nlohmann::json& params, std::string_view what, int& rc) {
  auto result = inv.vigild.call(method, params, std::chrono::seconds(60));
  if (rpc::is_error(result)) {
    rc = report_error(std::get<rpc::Error>(result), std::string(what));
    return std::nullopt;
  }
  return std::get<nlohmann::json>(result);
}

int show_version(Invocation& inv) {
  int rc = 0;
  auto daemon =
      call(inv, "version", nlohmann::json::object(), "cannot get the version of vigild", rc);
  if (!daemon) {
    return rc;
  }
  const auto cli = version_json("vigil");
  if (inv.json) {
    std::cout << nlohmann::json::array({cli, *daemon}).dump(2) << "\n";
    return 0;
  }
  TablePrinter table({"component", "version", "commit"});
  for (const auto& v : {cli, *daemon}) {
    table.add_row({v.value("name", "?"), v.value("version", "?"), v.value("commit", "?")});
  }
  std::cout << table.render();
  return 0;
}

int show_status(Invocation& inv) {
  int rc = 0;
  auto status =
      call(inv, "status", nlohmann::json::object(), "cannot get the status of vigild", rc);
  if (!status) {
    return rc;
  }
  const auto& s = *status;
  if (inv.json) {
    std::cout << s.dump(2) << "\n";
    return 0;
  }
  TablePrinter table({"process", "state", "pid", "uptime", "config"});
  char uptime[32];
  snprintf(uptime, sizeof uptime, "%.0fs", s.value("uptime_seconds", 0.0));
  table.add_row({s.value("name", "?"), s.value("state", "?"), std::to_string(s.value("pid", 0)),
                 uptime, s.value("config", "?")});
  std::cout << table.render();
  if (s.contains("not_implemented")) {
    std::cout << "\nnot implemented yet: " << s["not_implemented"].get<std::string>() << "\n";
  }
  return 0;
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "vigil: cannot read " << path << ": " << std::strerror(errno) << "\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int validate(Invocation& inv) {
  if (inv.args.size() != 1) {
    std::cerr << "vigil: validate needs one FILE\n";
    return kExitUsage;
  }
  auto text = read_text_file(inv.args[0]);
  if (!text) {
    return kExitUsage;
  }
  int rc = 0;
  auto result =
      call(inv, "validate", {{"text", *text}, {"origin", inv.args[0]}}, "cannot validate", rc);
  if (!result) {
    return rc;
  }
  const auto& r = *result;
  if (inv.json) {
    std::cout << r.dump(2) << "\n";
  } else if (r.value("valid", false)) {
    std::cout << inv.args[0] << ": valid\n";
  } else {
    for (const auto& e : r["errors"]) {
      std::cout << inv.args[0] << ": " << e.value("text", "") << "\n";
    }
  }
  return r.value("valid", false) ? 0 : kExitFailed;
}

// "rollback N" at the end of a command, or nothing.
std::optional<size_t> rollback_arg(const std::vector<std::string>& args, bool& bad) {
  bad = false;
  if (args.empty()) {
    return std::nullopt;
  }
  if (args.size() == 2 && args[0] == "rollback") {
    try {
      return std::stoul(args[1]);
    } catch (const std::exception&) {
    }
  }
  bad = true;
  return std::nullopt;
}

int show_configuration(Invocation& inv) {
  bool bad = false;
  auto n = rollback_arg(inv.args, bad);
  if (bad) {
    std::cerr << "vigil: usage: show configuration [rollback N]\n";
    return kExitUsage;
  }
  int rc = 0;
  auto r = call(inv, "show.configuration", {{"rollback", n.value_or(0)}}, "cannot show", rc);
  if (!r) {
    return rc;
  }
  std::cout << (inv.json ? r->dump(2) + "\n" : r->value("text", ""));
  return 0;
}

int show_commits(Invocation& inv) {
  int rc = 0;
  auto r = call(inv, "show.commits", nlohmann::json::object(), "cannot list commits", rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  TablePrinter table({"rollback", "commit", "time (UTC)", "user", "kind", "comment"});
  for (const auto& c : (*r)["commits"]) {
    char when[32] = "?";
    const time_t t = c.value("time", int64_t{0});
    struct tm tm_utc {};
    if (gmtime_r(&t, &tm_utc) != nullptr) {
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm_utc);
    }
    table.add_row({std::to_string(c.value("rollback", 0)), std::to_string(c.value("seq", 0)), when,
                   c.value("user", ""), c.value("kind", ""), c.value("comment", "")});
  }
  std::cout << table.render();
  if (const auto& p = (*r)["pending_confirm"]; p.is_object()) {
    const int64_t left = p.value("deadline", int64_t{0}) - time(nullptr);
    std::cout << "\ncommit " << p.value("commit", 0) << " by " << p.value("user", "")
              << " must be confirmed within " << std::max<int64_t>(left, 0)
              << " s, or rollback to commit " << p.value("rollback_to", 0) << " happens\n";
  }
  return 0;
}

int show_processes(Invocation& inv) {
  int rc = 0;
  auto r = call(inv, "show.processes", nlohmann::json::object(), "cannot list processes", rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  TablePrinter table({"component", "state", "pid", "restarts", "last exit", "socket"});
  for (const auto& p : *r) {
    const bool supervised = p.value("supervised", false);
    const std::string state = supervised
                                  ? p.value("state", "?")
                                  : (p.value("reachable", false) ? "reachable" : "not reachable");
    table.add_row({p.value("name", ""), state,
                   supervised && p.value("pid", 0) > 0 ? std::to_string(p.value("pid", 0)) : "-",
                   supervised ? std::to_string(p.value("restarts", 0)) : "-",
                   p.value("last_exit", "").empty() ? "-" : p.value("last_exit", ""),
                   p.value("socket", "")});
  }
  std::cout << table.render();
  return 0;
}

// One table of verdicts per port (the non-zero ones), then VIPs, backends, ACL rules and
// limits that matched anything.
int show_classifier(Invocation& inv) {
  int rc = 0;
  auto r = call(inv, "show.classifier", nlohmann::json::object(), "cannot read the classifier", rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  if (r->empty()) {
    std::cout << "no port runs the XDP classifier (interfaces.<name>.xdp: true)\n";
    return 0;
  }
  // "packets" (or "bytes") of a {"packets": N, "bytes": M} counter, as text.
  auto n = [](const nlohmann::json& count, const char* what = "packets") {
    return std::to_string(count.value(what, uint64_t{0}));
  };
  for (const auto& port : *r) {
    std::cout << "port " << port.value("device", "") << " (" << port.value("mode", "") << " XDP"
              << (port.value("adopted", false) ? ", adopted from a previous run" : "")
              << "): " << port.value("packets", uint64_t{0}) << " packets\n";
    if (port.value("packets", uint64_t{0}) == 0) {
      std::cout << "\n";
      continue;
    }
    TablePrinter verdicts({"verdict", "packets", "bytes"});
    for (const auto& [name, count] : port["verdicts"].items()) {
      if (count.value("packets", uint64_t{0}) != 0) {
        verdicts.add_row({name, n(count), n(count, "bytes")});
      }
    }
    for (const auto& [name, count] : port["malformed"].items()) {
      verdicts.add_row({"  malformed: " + name, n(count), n(count, "bytes")});
    }
    std::cout << verdicts.render();
    TablePrinter matches({"what", "name", "packets"});
    for (const auto& v : port["vips"]) {
      matches.add_row({"vip", v.value("vip", ""), n(v["count"])});
    }
    for (const auto& b : port["backends"]) {
      matches.add_row(
          {"backend", b.value("vip", "") + " " + b.value("backend", ""), n(b["count"])});
    }
    for (const auto& a : port["acl"]) {
      matches.add_row({"acl", a.value("rule", ""), n(a["matched"])});
    }
    for (const auto& p : port["policers"]) {
      matches.add_row({"limit (dropped)", p.value("name", ""), n(p["dropped"])});
    }
    if (!port["vips"].empty() || !port["acl"].empty() || !port["policers"].empty()) {
      std::cout << "\n" << matches.render();
    }
    std::cout << "\n";
  }
  return 0;
}

// The fast path's state from vigil-dp (through vigild), or nullopt after saying why not.
std::optional<nlohmann::json> dataplane(Invocation& inv, int& rc) {
  auto r = call(inv, "show.dataplane", nlohmann::json::object(), "cannot read the fast path", rc);
  if (!r) {
    return std::nullopt;
  }
  if (!inv.json && !r->value("forwarding", false)) {
    std::cout << "the fast path is not forwarding (dataplane.forwarding: false): the kernel "
                 "routes, vigil-dp runs the classifier only\n";
    return std::nullopt;
  }
  return *r;
}

// dataplane.flow_offload: what the XDP classifier forwarded by itself, per port.
void print_flow_offload(const nlohmann::json& o) {
  if (!o.value("enabled", false)) {
    std::cout << "\nflow offload to XDP: off\n";
    return;
  }
  TablePrinter table({"port", "offloaded rx packets", "offloaded tx packets", "offloads"});
  for (const auto& p : o["ports"]) {
    table.add_row({p.value("port", ""), std::to_string(p["rx"].value("packets", uint64_t{0})),
                   std::to_string(p["tx"].value("packets", uint64_t{0})),
                   p.value("offloadable", false) ? "yes" : "no: " + p.value("reason", "")});
  }
  std::cout << "\nflow offload to XDP (generation " << o.value("generation", uint64_t{0})
            << "): flows installed " << o.value("installed", uint64_t{0}) << ", stale "
            << o.value("stale", uint64_t{0}) << ", declined " << o.value("declined", uint64_t{0})
            << ", failed " << o.value("failed", uint64_t{0}) << "\n"
            << table.render();
}

int show_interfaces(Invocation& inv) {
  int rc = 0;
  auto r = dataplane(inv, rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << (*r)["ports"].dump(2) << "\n";
    return 0;
  }
  TablePrinter table(
      {"port", "link", "mac", "rx packets", "rx bytes", "tx packets", "tx bytes", "device missed"});
  for (const auto& p : (*r)["ports"]) {
    auto n = [&p](const char* key) { return std::to_string(p.value(key, uint64_t{0})); };
    table.add_row({p.value("name", ""), p.value("link", ""), p.value("mac", ""), n("rx_packets"),
                   n("rx_bytes"), n("tx_packets"), n("tx_bytes"), n("device_rx_missed")});
  }
  std::cout << table.render();
  TablePrinter drops({"dropped because", "packets"});
  bool dropped = false;
  for (const auto& [reason, count] : (*r)["drops"].items()) {
    if (count.get<uint64_t>() != 0) {
      drops.add_row({reason, std::to_string(count.get<uint64_t>())});
      dropped = true;
    }
  }
  std::cout << "\nICMP errors sent: " << r->value("icmp_errors_sent", uint64_t{0})
            << ", for the box (to the kernel): " << r->value("to_kernel", uint64_t{0})
            << "\nrx mode: " << r->value("rx_mode", "") << " (idle sleeps "
            << r->value("idle_sleeps", uint64_t{0}) << "), short bursts held up to "
            << r->value("tx_hold_us", uint64_t{0}) << " us before sending\n";
  std::cout << "\n" << (dropped ? drops.render() : "dropped: nothing\n");
  print_flow_offload((*r)["flow_offload"]);
  return 0;
}

int show_routes(Invocation& inv) {
  int rc = 0;
  auto r = dataplane(inv, rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << nlohmann::json{{"routes", (*r)["routes"]},
                                {"neighbours", (*r)["neighbours"]},
                                {"adjacencies", r->value("adjacencies", nlohmann::json::object())}}
                     .dump(2)
              << "\n";
    return 0;
  }
  TablePrinter routes({"prefix", "action", "via", "port", "weight"});
  for (const auto& route : (*r)["routes"]) {
    const std::string prefix = route.value("prefix", "");
    const std::string action = route.value("action", "");
    if (route["next_hops"].empty()) {
      routes.add_row({prefix, action, "-", "-", "-"});
    }
    for (const auto& hop : route["next_hops"]) {
      routes.add_row({prefix, action, hop.value("via", ""), hop.value("port", ""),
                      std::to_string(hop.value("weight", 1))});
    }
  }
  std::cout << routes.render();
  TablePrinter neighbours({"neighbour", "mac", "port"});
  for (const auto& n : (*r)["neighbours"]) {
    neighbours.add_row({n.value("address", ""), n.value("mac", ""), n.value("port", "")});
  }
  std::cout << "\n" << neighbours.render();
  if (const auto a = r->find("adjacencies"); a != r->end()) {
    std::cout << "\ngateways with an adjacency: " << a->value("in_use", uint64_t{0}) << " of "
              << a->value("capacity", uint64_t{0}) << " slots\n";
  }
  return 0;
}

int load(Invocation& inv) {
  if (inv.args.size() != 2 || (inv.args[0] != "replace" && inv.args[0] != "merge")) {
    std::cerr << "vigil: usage: load replace|merge FILE\n";
    return kExitUsage;
  }
  auto text = read_text_file(inv.args[1]);
  if (!text) {
    return kExitUsage;
  }
  int rc = 0;
  auto r =
      call(inv, "candidate.load", {{"text", *text}, {"mode", inv.args[0]}, {"origin", inv.args[1]}},
           "cannot load", rc);
  if (!r) {
    return rc;
  }
  std::cout << "loaded " << inv.args[1] << " into the candidate (" << inv.args[0] << ")\n";
  for (const auto& e : (*r)["errors"]) {
    std::cout << "  error: " << e.value("text", "") << "\n";
  }
  if (!r->value("valid", false)) {
    std::cout << "the candidate will not commit until these are fixed\n";
  }
  return 0;
}

int edit(Invocation& inv, std::string_view method, std::string_view verb) {
  if (inv.args.empty()) {
    std::cerr << "vigil: usage: " << verb << " PATH... [VALUE]\n";
    return kExitUsage;
  }
  int rc = 0;
  auto r = call(inv, method, {{"words", inv.args}}, verb, rc);
  if (!r) {
    return rc;
  }
  for (const auto& e : (*r)["errors"]) {
    std::cout << "  candidate error: " << e.value("text", "") << "\n";
  }
  return 0;
}

int set(Invocation& inv) {
  return edit(inv, "candidate.set", "set");
}
int del(Invocation& inv) {
  return edit(inv, "candidate.delete", "delete");
}

int compare(Invocation& inv) {
  bool bad = false;
  auto n = rollback_arg(inv.args, bad);
  if (bad) {
    std::cerr << "vigil: usage: compare [rollback N]\n";
    return kExitUsage;
  }
  int rc = 0;
  auto r = call(inv, "compare", {{"rollback", n.value_or(0)}}, "cannot compare", rc);
  if (!r) {
    return rc;
  }
  const std::string diff = r->value("diff", "");
  std::cout << (diff.empty() ? "no differences\n" : diff);
  return 0;
}

int rollback(Invocation& inv) {
  size_t n = 0;
  try {
    if (inv.args.size() != 1) {
      throw std::invalid_argument("count");
    }
    n = std::stoul(inv.args[0]);
  } catch (const std::exception&) {
    std::cerr << "vigil: usage: rollback N\n";
    return kExitUsage;
  }
  int rc = 0;
  auto r = call(inv, "candidate.rollback", {{"rollback", n}}, "cannot roll back", rc);
  if (!r) {
    return rc;
  }
  std::cout << "loaded rollback " << n << " (commit " << r->value("loaded_seq", 0)
            << ") into the candidate; review with `vigil compare`, apply with `vigil commit`\n";
  return 0;
}

int commit(Invocation& inv) {
  nlohmann::json params = nlohmann::json::object();
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "confirmed" && i + 1 < inv.args.size()) {
      try {
        params["confirm_minutes"] = std::stoi(inv.args[++i]);
      } catch (const std::exception&) {
        std::cerr << "vigil: commit confirmed needs a number of minutes\n";
        return kExitUsage;
      }
    } else if ((a == "-m" || a == "comment") && i + 1 < inv.args.size()) {
      params["comment"] = inv.args[++i];
    } else {
      std::cerr << "vigil: usage: commit [confirmed MINUTES] [-m COMMENT]\n";
      return kExitUsage;
    }
  }
  int rc = 0;
  auto r = call(inv, "commit", params, "commit", rc);
  if (!r) {
    return rc;
  }
  if (inv.json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  const auto& c = (*r)["commit"];
  std::cout << "commit " << c.value("seq", 0) << " complete";
  const auto& changed = (*r)["changed_sections"];
  std::cout << (changed.empty() ? " (no sections changed)" : "; changed:");
  for (const auto& s : changed) {
    std::cout << " " << s.get<std::string>();
  }
  std::cout << "\n";
  for (const auto& n : (*r)["not_running"]) {
    std::cout << "  " << n.get<std::string>()
              << " is not running; it gets the config when it starts\n";
  }
  if (r->contains("confirm_deadline")) {
    std::cout << "  confirm with `vigil confirm` within "
              << (*r)["confirm_deadline"].get<int64_t>() - time(nullptr)
              << " s, or the previous config comes back\n";
  }
  return 0;
}

int confirm(Invocation& inv) {
  int rc = 0;
  if (!call(inv, "confirm", nlohmann::json::object(), "cannot confirm", rc)) {
    return rc;
  }
  std::cout << "commit confirmed\n";
  return 0;
}

int discard(Invocation& inv) {
  int rc = 0;
  if (!call(inv, "candidate.discard", nlohmann::json::object(), "cannot discard", rc)) {
    return rc;
  }
  std::cout << "candidate reset to the running config\n";
  return 0;
}

int save(Invocation& inv) {
  if (inv.args.size() != 1) {
    std::cerr << "vigil: usage: save FILE\n";
    return kExitUsage;
  }
  int rc = 0;
  auto r = call(inv, "candidate.show", nlohmann::json::object(), "cannot read the candidate", rc);
  if (!r) {
    return rc;
  }
  std::ofstream out(inv.args[0]);
  out << r->value("text", "");
  if (!out.flush()) {
    std::cerr << "vigil: cannot write " << inv.args[0] << ": " << std::strerror(errno) << "\n";
    return kExitFailed;
  }
  std::cout << "saved the candidate to " << inv.args[0] << "\n";
  return 0;
}

CommandTable build_table() {
  CommandTable t;
  t.add({.words = {"show", "version"},
         .help = "versions of this CLI and of vigild",
         .run = show_version});
  t.add({.words = {"show", "system", "status"},
         .help = "vigild's process state, uptime and config file",
         .run = show_status});
  t.add({.words = {"show", "configuration"},
         .args_hint = "[rollback N]",
         .help = "the running config, or an earlier one",
         .run = show_configuration});
  t.add({.words = {"show", "system", "commit"},
         .help = "commit history and any commit waiting for confirmation",
         .run = show_commits});
  t.add({.words = {"show", "system", "processes"},
         .help = "components: supervised state, pid, restarts, reachability",
         .run = show_processes});
  t.add({.words = {"show", "classifier"},
         .help = "XDP classifier counters per port: verdicts, VIPs, backends, ACL, limits",
         .run = show_classifier});
  t.add({.words = {"show", "interfaces"},
         .help = "fast-path ports: packets and bytes each way, drops by reason",
         .run = show_interfaces});
  t.add({.words = {"show", "routes"},
         .help = "the fast path's FIB (next hops, ECMP weights) and its neighbours",
         .run = show_routes});
  t.add({.words = {"load"},
         .args_hint = "replace|merge FILE",
         .help = "put a file into your candidate config",
         .run = load});
  t.add({.words = {"set"},
         .args_hint = "PATH... VALUE",
         .help = "set a value in your candidate (lists gain the value)",
         .run = set});
  t.add({.words = {"delete"},
         .args_hint = "PATH... [VALUE]",
         .help = "remove a key, an entry or a list value from your candidate",
         .run = del});
  t.add({.words = {"compare"},
         .args_hint = "[rollback N]",
         .help = "diff of your candidate against running (or rollback N)",
         .run = compare});
  t.add({.words = {"rollback"},
         .args_hint = "N",
         .help = "load committed config N (0 = running) into your candidate",
         .run = rollback});
  t.add({.words = {"commit"},
         .args_hint = "[confirmed MIN] [-m TEXT]",
         .help = "apply your candidate; confirmed: roll back unless confirmed in MIN minutes",
         .run = commit});
  t.add({.words = {"confirm"}, .help = "keep a commit confirmed", .run = confirm});
  t.add(
      {.words = {"discard"}, .help = "reset your candidate to the running config", .run = discard});
  t.add({.words = {"save"},
         .args_hint = "FILE",
         .help = "write your candidate to a file",
         .run = save});
  t.add({.words = {"validate"},
         .args_hint = "FILE",
         .help = "check a config file against the schema without applying it",
         .run = validate});
  return t;
}

void usage(const CommandTable& table) {
  std::cout << "Usage: vigil [--socket PATH] [--json] COMMAND...\n"
               "Operate a Vigil appliance through vigild.\n\n"
               "Options:\n"
               "  --socket PATH   vigild's socket (default /run/vigil/vigild.sock, or "
               "$VIGIL_SOCKET)\n"
               "  --json          machine-readable output\n"
               "  --version       print the CLI's version\n\n"
               "Commands:\n"
            << table.help() << "\nInteractive mode (no COMMAND) is not implemented yet.\n";
}

}  // namespace

// Runs one command, one-shot or from the interactive prompt.
int dispatch(const CommandTable& table, rpc::Client& vigild, const std::vector<std::string>& words,
             bool json) {
  auto match = table.match(words);
  if (!match) {
    std::cerr << "vigil: unknown command \"";
    for (size_t i = 0; i < words.size(); ++i) {
      std::cerr << (i ? " " : "") << words[i];
    }
    std::cerr << "\"\n";
    const auto near = table.completions({words.front()});
    if (!near.empty()) {
      std::cerr << "Commands starting with \"" << words.front() << "\":\n";
      for (const Command* c : near) {
        std::cerr << " ";
        for (const auto& w : c->words) {
          std::cerr << " " << w;
        }
        std::cerr << "\n";
      }
    }
    return kExitUsage;
  }
  if (!match->rest.empty() && match->command->args_hint.empty()) {
    std::cerr << "vigil: unexpected argument \"" << match->rest.front() << "\"\n";
    return kExitUsage;
  }
  Invocation inv{.vigild = vigild, .args = match->rest, .json = json};
  return match->command->run(inv);
}

// Interactive lines: configure mode adds Junos' `show` (the candidate) and `show | compare`.
int run_line(const CommandTable& table, rpc::Client& vigild, const std::vector<std::string>& words,
             bool json, bool configure) {
  if (words == std::vector<std::string>{"help"} || words == std::vector<std::string>{"?"}) {
    usage(table);
    return 0;
  }
  if (configure && words == std::vector<std::string>{"show"}) {
    Invocation inv{.vigild = vigild, .json = json};
    int rc = 0;
    auto r = call(inv, "candidate.show", nlohmann::json::object(), "cannot show", rc);
    if (r) {
      std::cout << r->value("text", "");
    }
    return rc;
  }
  if (configure && words == std::vector<std::string>{"show", "|", "compare"}) {
    return dispatch(table, vigild, {"compare"}, json);
  }
  return dispatch(table, vigild, words, json);
}

std::vector<std::string> complete_words(const CommandTable& table, rpc::Client& vigild,
                                        const std::vector<std::string>& words, bool configure) {
  if (!words.empty() && (words[0] == "set" || words[0] == "delete")) {
    auto r = vigild.call("complete",
                         {{"words", std::vector<std::string>(words.begin() + 1, words.end())}});
    if (rpc::is_error(r) || !std::get<nlohmann::json>(r).is_array()) {
      return {};
    }
    return std::get<nlohmann::json>(r).get<std::vector<std::string>>();
  }
  std::vector<std::string> out;
  if (words.empty()) {
    out = {"help", "quit", configure ? "exit" : "configure"};
    if (!configure) {
      out.emplace_back("exit");
    }
  }
  for (const Command* c : table.completions(words)) {
    if (c->words.size() > words.size() &&
        std::equal(words.begin(), words.end(), c->words.begin())) {
      out.push_back(c->words[words.size()]);
    }
  }
  return out;
}

int main(int argc, char** argv) {
  const CommandTable table = build_table();
  std::string socket = "/run/vigil/vigild.sock";
  if (const char* env = std::getenv("VIGIL_SOCKET"); env != nullptr && *env != '\0') {
    socket = env;
  }
  bool json = false;
  std::vector<std::string> words;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "-c") {
    // As a login shell, sshd runs `vigil -c "<what the user typed after ssh host>"`.
    std::istringstream in(args[1]);
    args.assign(std::istream_iterator<std::string>(in), std::istream_iterator<std::string>());
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--socket" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (arg.starts_with("--socket=")) {
      socket = arg.substr(9);
    } else if (arg == "-h" || arg == "--help" || arg == "help") {
      usage(table);
      return 0;
    } else if (arg == "--version") {
      std::cout << "vigil " << VIGIL_VERSION << " (" << VIGIL_COMMIT << ")\n";
      return 0;
    } else if (arg.starts_with("--")) {
      std::cerr << "vigil: unknown option \"" << arg << "\" (see vigil --help)\n";
      return kExitUsage;
    } else {
      words.push_back(arg);
    }
  }
  rpc::Client vigild(socket);
  if (words.empty()) {
    return run_interactive({
        .run = [&](const std::vector<std::string>& w,
                   bool configure) { return run_line(table, vigild, w, json, configure); },
        .complete = [&](const std::vector<std::string>& w,
                        bool configure) { return complete_words(table, vigild, w, configure); },
    });
  }
  return dispatch(table, vigild, words, json);
}

}  // namespace vigil::cli

int main(int argc, char** argv) {
  return vigil::cli::main(argc, argv);
}

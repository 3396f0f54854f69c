// vigil: the operator CLI. Every command is one JSON-RPC call to vigild, so what the CLI can
// do, automation can do too. One-shot mode only at this commit.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/daemon.h"
#include "common/json_rpc_client.h"
#include "mgmt/cli/command_table.h"
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

int show_version(Invocation& inv) {
  auto result = inv.vigild.call("version");
  if (rpc::is_error(result)) {
    return report_error(std::get<rpc::Error>(result), "cannot get the version of vigild");
  }
  const auto& daemon = std::get<nlohmann::json>(result);
  const auto cli = version_json("vigil");
  if (inv.json) {
    std::cout << nlohmann::json::array({cli, daemon}).dump(2) << "\n";
    return 0;
  }
  TablePrinter table({"component", "version", "commit"});
  for (const auto& v : {cli, daemon}) {
    table.add_row({v.value("name", "?"), v.value("version", "?"), v.value("commit", "?")});
  }
  std::cout << table.render();
  return 0;
}

int show_status(Invocation& inv) {
  auto result = inv.vigild.call("status");
  if (rpc::is_error(result)) {
    return report_error(std::get<rpc::Error>(result), "cannot get the status of vigild");
  }
  const auto& s = std::get<nlohmann::json>(result);
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

int validate(Invocation& inv) {
  if (inv.args.size() != 1) {
    std::cerr << "vigil: validate needs one FILE\n";
    return kExitUsage;
  }
  std::ifstream in(inv.args[0]);
  if (!in) {
    std::cerr << "vigil: cannot read " << inv.args[0] << ": " << std::strerror(errno) << "\n";
    return kExitUsage;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto result = inv.vigild.call("validate", {{"text", text.str()}, {"origin", inv.args[0]}});
  if (rpc::is_error(result)) {
    return report_error(std::get<rpc::Error>(result), "cannot validate");
  }
  const auto& r = std::get<nlohmann::json>(result);
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

CommandTable build_table() {
  CommandTable t;
  t.add({.words = {"show", "version"},
         .help = "versions of this CLI and of vigild",
         .run = show_version});
  t.add({.words = {"show", "system", "status"},
         .help = "vigild's process state, uptime and config file",
         .run = show_status});
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
            << table.help()
            << "\nInteractive mode (no COMMAND) and configuration commands are not implemented "
               "yet.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const CommandTable table = build_table();
  std::string socket = "/run/vigil/vigild.sock";
  if (const char* env = std::getenv("VIGIL_SOCKET"); env != nullptr && *env != '\0') {
    socket = env;
  }
  bool json = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--socket" && i + 1 < argc) {
      socket = argv[++i];
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
  if (words.empty()) {
    std::cerr << "vigil: interactive mode is not implemented yet; give a command "
                 "(see vigil --help)\n";
    return kExitUsage;
  }
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
  rpc::Client vigild(socket);
  Invocation inv{.vigild = vigild, .args = match->rest, .json = json};
  return match->command->run(inv);
}

}  // namespace vigil::cli

int main(int argc, char** argv) {
  return vigil::cli::main(argc, argv);
}

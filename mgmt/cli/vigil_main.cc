// vigil: the operator CLI, one-shot (`vigil show routes`, also as sshd's login shell with -c)
// or interactive with a Junos-style operational and configure mode. Every command is one
// JSON-RPC call to vigild, so what the CLI can do, automation can do too. The commands live in
// commands/, one file per area; this file reads the command line and prints their Output.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/json_rpc_client.h"
#include "common/yaml_file.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "mgmt/cli/interactive.h"
#include "mgmt/cli/pager.h"
#include "mgmt/cli/words.h"
#include "version.h"  // generated at the build root

namespace vigil::mgmt::cli {
namespace {

// vigild over its socket.
class SocketVigild final : public Vigild {
 public:
  explicit SocketVigild(std::string socket) : client_(std::move(socket)) {}
  rpc::CallResult call(std::string_view method, const nlohmann::json& params,
                       std::chrono::milliseconds timeout) override {
    return client_.call(method, params, timeout);
  }

 private:
  rpc::Client client_;
};

int print(const Output& o) {
  std::cout << o.out << std::flush;
  std::cerr << o.err;
  return o.exit_code;
}

// Interactive output: long answers through the pager unless `| no-more` said otherwise.
int print_interactive(const Output& o) {
  if (o.no_more) {
    std::cout << o.out << std::flush;
  } else {
    print_paged(o.out);
  }
  std::cerr << o.err;
  return o.exit_code;
}

// "user@host" for the prompt: the caller's login name and the configured hostname, or the
// kernel's when vigild cannot say.
std::string prompt_name(Vigild& vigild) {
  std::string user = "vigil";
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
    user = pw->pw_name;
  }
  std::string host;
  const auto r =
      vigild.call("show.configuration", nlohmann::json::object(), std::chrono::seconds(5));
  if (const auto* answer = std::get_if<nlohmann::json>(&r); answer && answer->is_object()) {
    if (auto doc = parse_yaml(answer->value("text", ""), "running"); doc && doc->IsMap()) {
      const YAML::Node system = (*doc)["system"];
      if (system.IsMap() && system["hostname"].IsScalar()) {
        host = system["hostname"].Scalar();
      }
    }
  }
  if (host.empty()) {
    char name[256] = {};
    host = ::gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
  }
  return user + "@" + host;
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
  // As a login shell, sshd runs `vigil -c "<what the user typed after ssh host>"`: that line
  // is split as the user's own shell would have split it, and its words are read as any
  // command line's (options such as --json included).
  if (const auto c = std::find(args.begin(), args.end(), "-c");
      c != args.end() && c + 1 != args.end()) {
    SplitLine split = split_words(*(c + 1));
    if (split.unterminated) {
      std::cerr << "vigil: unterminated quote or trailing backslash in the command line (or "
                   "longer than "
                << kMaxLineBytes << " bytes)\n";
      return kExitUsage;
    }
    const auto at = args.erase(c, c + 2);
    args.insert(at, split.words.begin(), split.words.end());
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--json" || arg == "-j") {
      json = true;
    } else if (arg == "--socket" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (arg.starts_with("--socket=")) {
      socket = arg.substr(9);
    } else if (arg == "-h" || arg == "--help" || arg == "help") {
      std::cout << usage_text(table);
      return kExitOk;
    } else if (arg == "--version") {
      std::cout << "vigil " << VIGIL_VERSION << " (" << VIGIL_COMMIT << ")\n";
      return kExitOk;
    } else if (arg.starts_with("--") && words.empty()) {
      // After the command's first word, --name is the command's own (mesh token create --site).
      std::cerr << "vigil: unknown option \"" << arg << "\" (see vigil --help)\n";
      return kExitUsage;
    } else {
      words.push_back(arg);
    }
  }
  SocketVigild vigild(socket);
  if (words.empty()) {
    return run_interactive({
        .run =
            [&](const std::vector<std::string>& w, bool configure) {
              return print_interactive(run_line(table, vigild, w, json, configure));
            },
        .complete = [&](const std::vector<std::string>& w,
                        bool configure) { return complete_words(table, vigild, w, configure); },
        .describe =
            [&](const std::vector<std::string>& w, bool configure) {
              std::vector<std::string> asked = w;
              asked.emplace_back("?");
              const Output o = run_line(table, vigild, asked, json, configure);
              return o.out + o.err;
            },
        .uncommitted =
            [&] {
              const auto r =
                  vigild.call("candidate.show", nlohmann::json::object(), std::chrono::seconds(5));
              const auto* answer = std::get_if<nlohmann::json>(&r);
              if (answer == nullptr || !answer->is_object()) {
                return false;
              }
              const auto modified = answer->find("modified");
              return modified != answer->end() && modified->is_boolean() && modified->get<bool>();
            },
        .prompt_name = prompt_name(vigild),
    });
  }
  return print(dispatch(table, vigild, words, json));
}

}  // namespace
}  // namespace vigil::mgmt::cli

int main(int argc, char** argv) {
  return vigil::mgmt::cli::main(argc, argv);
}

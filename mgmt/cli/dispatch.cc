#include "mgmt/cli/dispatch.h"

#include <algorithm>
#include <functional>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/table_printer.h"

namespace vigil::mgmt::cli {
namespace {

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

// Runs a command; a field of another type than this CLI expects in vigild's answer (a vigild
// of another version, say) is an error, not a crash.
Output guarded(const std::function<Output()>& run) {
  try {
    return run();
  } catch (const nlohmann::json::exception& e) {
    return failure("vigild's answer is not what this CLI understands: " + std::string(e.what()));
  }
}

bool edits_config(const std::vector<std::string>& words) {
  return !words.empty() && (words[0] == "set" || words[0] == "delete" || words[0] == "insert");
}

// `... ?`: what may come next after `words`, with types for config paths; nothing is run.
Output describe_next(const CommandTable& table, Vigild& vigild,
                     const std::vector<std::string>& words) {
  TablePrinter rows({"next", "type", "description"}, /*header=*/false);
  if (edits_config(words)) {
    auto r = vigild.call("describe",
                         {{"words", std::vector<std::string>(words.begin() + 1, words.end())}},
                         std::chrono::seconds(5));
    if (rpc::is_error(r)) {
      const auto& e = std::get<rpc::Error>(r);
      return failure("cannot describe: " + e.message, exit_code_of_error(e.code));
    }
    for (const auto& w : std::get<nlohmann::json>(r)) {
      rows.add_row({"  " + w.value("word", ""), w.value("type", ""), w.value("description", "")});
    }
    if (rows.empty()) {
      return {.out = "nothing more: \"" + joined(words) + "\" is complete (or not a path)\n"};
    }
    return {.out = "Possible completions:\n" + rows.render()};
  }
  if (auto m = table.match(words); m && m->command->words.size() == words.size()) {
    rows.add_row({"  <Enter>", m->command->args_hint, m->command->help});
  }
  for (const Command* c : table.completions(words)) {
    if (c->words.size() > words.size() &&
        std::equal(words.begin(), words.end(), c->words.begin())) {
      rows.add_row({"  " + c->words[words.size()], "", c->help});
    }
  }
  return {.out = "Possible completions:\n" + rows.render()};
}

}  // namespace

std::string usage_text(const CommandTable& table) {
  return "Usage: vigil [--socket PATH] [--json] [COMMAND...]\n"
         "Operate a Vigil appliance through vigild. Without a COMMAND, an interactive prompt.\n\n"
         "Options:\n"
         "  --socket PATH   vigild's socket (default /run/vigil/vigild.sock, or $VIGIL_SOCKET)\n"
         "  -j, --json      machine-readable output\n"
         "  --version       print the CLI's version\n"
         "  -c LINE         run LINE as one command, split as a shell splits words (as a login\n"
         "                  shell, for ssh box COMMAND)\n\n"
         "Exit codes: 0 done, 1 a check found problems or vigild failed, 64 bad command line,\n"
         "65 vigild refused the input, 69 vigild unreachable, 70 a component failed or did not\n"
         "answer, 73 vigild busy (try again), 75 others committed since your candidate was made\n"
         "(update), 77 not allowed for your role.\n\n"
         "Commands:\n" +
         table.help();
}

Output dispatch(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& typed,
                bool json) {
  const std::vector<std::string> words = table.expand(typed);
  if (words.size() > 1 && words.back() == "?") {
    return guarded([&] {
      return describe_next(table, vigild, std::vector<std::string>(words.begin(), words.end() - 1));
    });
  }
  auto match = table.match(words);
  if (!match) {
    Output o{.exit_code = kExitUsage, .err = "vigil: unknown command \"" + joined(words) + "\"\n"};
    const auto near =
        words.empty() ? std::vector<const Command*>{} : table.completions({words.front()});
    if (!near.empty()) {
      o.err += "Commands starting with \"" + words.front() + "\":\n";
      for (const Command* c : near) {
        o.err += "  " + joined(c->words) + "\n";
      }
    }
    return o;
  }
  if (!match->rest.empty() && match->command->args_hint.empty()) {
    return failure("unexpected argument \"" + match->rest.front() + "\"", kExitUsage);
  }
  Invocation inv{.vigild = vigild, .args = match->rest, .json = json};
  return guarded([&] { return match->command->run(inv); });
}

Output run_line(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& words,
                bool json, bool configure) {
  if (words == std::vector<std::string>{"help"} || words == std::vector<std::string>{"?"}) {
    return {.out = usage_text(table)};
  }
  if (words.size() > 1 && words[0] == "run") {
    // An operational command from configure mode, as on Junos.
    return dispatch(table, vigild, std::vector<std::string>(words.begin() + 1, words.end()), json);
  }
  if (configure && words == std::vector<std::string>{"show"}) {
    Invocation inv{.vigild = vigild, .json = json};
    return guarded([&] { return show_candidate(inv); });
  }
  if (configure && words == std::vector<std::string>{"show", "|", "compare"}) {
    return dispatch(table, vigild, {"compare"}, json);
  }
  return dispatch(table, vigild, words, json);
}

std::vector<std::string> complete_words(const CommandTable& table, Vigild& vigild,
                                        const std::vector<std::string>& words, bool configure) {
  if (!words.empty() && (words[0] == "set" || words[0] == "delete" || words[0] == "insert")) {
    auto r = vigild.call("complete",
                         {{"words", std::vector<std::string>(words.begin() + 1, words.end())}},
                         std::chrono::seconds(5));
    std::vector<std::string> out;
    if (!rpc::is_error(r) && std::get<nlohmann::json>(r).is_array()) {
      for (const auto& word : std::get<nlohmann::json>(r)) {
        if (word.is_string()) {
          out.push_back(word.get<std::string>());
        }
      }
    }
    return out;
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

}  // namespace vigil::mgmt::cli

#include "mgmt/cli/dispatch.h"

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <variant>

#include "config/sections.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/pipes.h"
#include "mgmt/cli/table_printer.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {
namespace {

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

// Configure mode's `show [PATH...]`: the candidate (a config word after `show`, as Junos
// reads it there; operational `show` commands go through `run`).
bool shows_candidate(const std::vector<std::string>& words) {
  return !words.empty() && words[0] == "show" &&
         (words.size() == 1 || config::kDocumentSchema.find(words[1]) != nullptr);
}

// The words after the last `|`, when there is one.
std::optional<std::vector<std::string>> after_last_bar(const std::vector<std::string>& words) {
  const auto bar = std::find(words.rbegin(), words.rend(), "|");
  if (bar == words.rend()) {
    return std::nullopt;
  }
  return std::vector<std::string>(bar.base(), words.end());
}

// The config path a line is about and how vigild should read it, when it is one: set/insert
// (the schema), delete (only what is set), configure mode's show (what is set).
struct ConfigPath {
  std::vector<std::string> words;
  bool only_set = false;
};
std::optional<ConfigPath> config_path(const std::vector<std::string>& words, bool configure) {
  if (edits_config(words)) {
    return ConfigPath{.words = std::vector<std::string>(words.begin() + 1, words.end()),
                      .only_set = words[0] == "delete"};
  }
  if (configure && shows_candidate(words)) {
    return ConfigPath{.words = std::vector<std::string>(words.begin() + 1, words.end()),
                      .only_set = true};
  }
  return std::nullopt;
}

// `... ?`: what may come next after `words`, with types for config paths; nothing is run.
Output describe_next(const CommandTable& table, Vigild& vigild,
                     const std::vector<std::string>& words, bool configure) {
  TablePrinter rows({"next", "type", "description"}, /*header=*/false);
  if (auto piped = after_last_bar(words)) {
    for (const auto& w : pipe_words(*piped)) {
      rows.add_row({"  " + w, "", ""});
    }
    if (rows.empty()) {
      return {.out =
                  "nothing more: \"" + join_words(words) + "\" is complete (or not a modifier)\n"};
    }
    return {.out = "Possible completions:\n" + rows.render()};
  }
  if (auto path = config_path(words, configure)) {
    auto r = vigild.call("describe", {{"words", path->words}, {"only_set", path->only_set}},
                         std::chrono::seconds(5));
    if (rpc::is_error(r)) {
      const auto& e = std::get<rpc::Error>(r);
      return failure("cannot describe: " + e.message, exit_code_of_error(e.code));
    }
    for (const auto& w : std::get<nlohmann::json>(r)) {
      rows.add_row({"  " + w.value("word", ""), w.value("type", ""), w.value("description", "")});
    }
    if (rows.empty()) {
      return {.out = "nothing more: \"" + join_words(words) + "\" is complete (or not a path)\n"};
    }
    return {.out = "Possible completions:\n" + rows.render()};
  }
  if (auto m = table.match(words); m && m->command->words.size() == words.size()) {
    rows.add_row({"  <Enter>", m->command->args_hint, m->command->help});
    rows.add_row({"  |", "", "pipe the output through a modifier"});
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

namespace {

constexpr std::array<CliOption, 5> kOptions = {{
    {"--socket PATH", "vigild's socket (default /run/vigil/vigild.sock, or $VIGIL_SOCKET)"},
    {"-j, --json", "machine-readable output, failures included"},
    {"--version", "print the CLI's version"},
    {"-c LINE",
     "run LINE as one command, split as a POSIX shell splits words (as a login shell, for ssh "
     "box COMMAND)"},
    {"-h, --help", "this text"},
}};

}  // namespace

std::span<const CliOption> cli_options() {
  return kOptions;
}

std::string usage_text(const CommandTable& table) {
  TablePrinter options({"option", "meaning"}, /*header=*/false);
  for (const CliOption& o : cli_options()) {
    options.add_row({"  " + std::string(o.flags), std::string(o.meaning)});
  }
  TablePrinter codes({"code", "meaning"}, /*header=*/false);
  for (const ExitCode& e : exit_codes()) {
    codes.add_row({"  " + std::to_string(e.code), std::string(e.meaning)});
  }
  TablePrinter modifiers({"modifier", "meaning"}, /*header=*/false);
  for (const PipeModifier& m : pipe_modifiers()) {
    modifiers.add_row({"  COMMAND " + std::string(m.syntax), std::string(m.meaning)});
  }
  return "Usage: vigil [--socket PATH] [--json] [COMMAND...]\n"
         "Operate a Vigil appliance through vigild. Without a COMMAND, an interactive prompt.\n"
         "The whole grammar: docs/cli.md.\n\nOptions:\n" +
         options.render() + "\nExit codes:\n" + codes.render() + "\nOutput modifiers:\n" +
         modifiers.render() + "\nCommands:\n" + table.help();
}

namespace {

// One command, no pipes: the table's longest match, or "did you mean".
Output run_command(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& typed,
                   bool json) {
  const std::vector<std::string> words = table.expand(typed);
  auto match = table.match(words);
  if (!match) {
    Output o{.exit_code = kExitUsage,
             .err = "vigil: unknown command \"" + join_words(words) + "\"\n"};
    const auto near =
        words.empty() ? std::vector<const Command*>{} : table.completions({words.front()});
    if (!near.empty()) {
      o.err += "Commands starting with \"" + words.front() + "\":\n";
      for (const Command* c : near) {
        o.err += "  " + join_words(c->words) + "\n";
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

// `| compare [rollback N]`: the command that shows those differences instead.
std::variant<std::vector<std::string>, Output> compare_command(
    const CommandTable& table, const std::vector<std::string>& command, const PipeStage& stage,
    bool configure) {
  if (configure && command == std::vector<std::string>{"show"}) {
    if (stage.arg.empty()) {
      return std::vector<std::string>{"compare"};
    }
    return std::vector<std::string>{"compare", "rollback", stage.arg};
  }
  if (table.expand(command) == std::vector<std::string>{"show", "configuration"}) {
    // Junos: what rollback N (the commit before the last, by default) became in running.
    return std::vector<std::string>{
        "show", "system", "rollback", stage.arg.empty() ? "1" : stage.arg, "compare", "0"};
  }
  return usage_error("`| compare` follows `show configuration` (or `show` in configure mode)");
}

// A command line with its pipes, in either mode; `json` becomes true when `| display json`
// asks for JSON. Failures are left as text: the caller turns them into JSON, once.
Output run_pipeline(const CommandTable& table, Vigild& vigild,
                    const std::vector<std::string>& words, bool& json, bool configure) {
  if (words.size() > 1 && words.back() == "?") {
    return guarded([&] {
      return describe_next(table, vigild,
                           table.expand(std::vector<std::string>(words.begin(), words.end() - 1)),
                           configure);
    });
  }
  auto parsed = parse_pipeline(words);
  if (auto* bad = std::get_if<Output>(&parsed)) {
    return std::move(*bad);
  }
  Pipeline& p = std::get<Pipeline>(parsed);
  json = json || wants_json(p.stages);
  if (!p.stages.empty() && p.stages.front().kind == PipeKind::kCompare) {
    auto command = compare_command(table, p.command, p.stages.front(), configure);
    if (auto* bad = std::get_if<Output>(&command)) {
      return std::move(*bad);
    }
    p.command = std::get<std::vector<std::string>>(command);
    configure = false;
  }
  Output o;
  if (configure && shows_candidate(p.command)) {
    Invocation inv{.vigild = vigild,
                   .args = std::vector<std::string>(p.command.begin() + 1, p.command.end()),
                   .json = json};
    o = guarded([&] { return show_candidate(inv); });
    if (o.exit_code == kExitOk && o.out.empty() && p.command.size() > 1) {
      // `show interfaces` in configure mode is the candidate's part, as on Junos; say so when
      // it is empty, since the operator may have wanted the operational command.
      const std::string path = join_words({p.command.begin() + 1, p.command.end()});
      o.err = "vigil: nothing is set under " + path + " in your candidate";
      const auto m = table.match(p.command);
      o.err += m && m->rest.empty()
                   ? "; the operational command: run " + join_words(p.command) + "\n"
                   : "\n";
    }
  } else {
    o = run_command(table, vigild, p.command, json);
  }
  return apply_stages(std::move(o), p.stages);
}

// An interactive line: help, run, or a pipeline. As run_pipeline, failures left as text.
Output run_interactive_line(const CommandTable& table, Vigild& vigild,
                            const std::vector<std::string>& words, bool& json, bool configure) {
  if (!words.empty() && (words[0] == "help" || words[0] == "?") &&
      (words.size() == 1 || words[1] == "|")) {
    auto parsed = parse_pipeline(words);
    if (auto* bad = std::get_if<Output>(&parsed)) {
      return std::move(*bad);
    }
    return apply_stages({.out = usage_text(table)}, std::get<Pipeline>(parsed).stages);
  }
  if (words.size() > 1 && words[0] == "run") {
    // An operational command from configure mode, as on Junos.
    return run_pipeline(table, vigild, std::vector<std::string>(words.begin() + 1, words.end()),
                        json, /*configure=*/false);
  }
  return run_pipeline(table, vigild, words, json, configure);
}

// Where every failure becomes JSON when JSON was asked for (--json or `| display json`).
Output as_asked(Output o, bool json) {
  return json ? json_error(std::move(o)) : o;
}

}  // namespace

Output dispatch(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& words,
                bool json) {
  Output o = run_pipeline(table, vigild, words, json, /*configure=*/false);
  return as_asked(std::move(o), json);
}

Output run_line(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& words,
                bool json, bool configure) {
  Output o = run_interactive_line(table, vigild, words, json, configure);
  return as_asked(std::move(o), json);
}

std::vector<std::string> complete_words(const CommandTable& table, Vigild& vigild,
                                        const std::vector<std::string>& typed, bool configure) {
  const std::vector<std::string> words = table.expand(typed);  // `del interfaces <Tab>`
  if (auto piped = after_last_bar(words)) {
    return pipe_words(*piped);
  }
  if (auto path = config_path(words, configure)) {
    auto r = vigild.call("complete", {{"words", path->words}, {"only_set", path->only_set}},
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
    } else {
      out.emplace_back("run");
    }
  }
  if (configure && !words.empty() && words[0] == "run") {
    return complete_words(table, vigild, std::vector<std::string>(words.begin() + 1, words.end()),
                          false);
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

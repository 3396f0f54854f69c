#include "mgmt/cli/reference.h"

#include <string_view>

#include "mgmt/cli/command.h"
#include "mgmt/cli/dispatch.h"
#include "mgmt/cli/pipes.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {
namespace {

// A table cell: `|` would end the cell.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

std::string code(std::string_view text) {
  return "`" + cell(text) + "`";
}

// What only the interactive prompt reads (interactive.cc and dispatch.cc's run_line); the
// command table holds the rest.
struct PromptWord {
  std::string_view typed;
  std::string_view mode;
  std::string_view meaning;
};
constexpr PromptWord kPromptWords[] = {
    {"configure", "operational", "enter configure mode (prompt `#`)"},
    {"show [PATH...]", "configure",
     "your candidate, or the part under PATH (`show interfaces lan0`); `show | compare` its diff"},
    {"run COMMAND", "configure", "an operational command (`run show interfaces`), as on Junos"},
    {"commit and-quit", "configure", "commit, and back to operational mode when it is done"},
    {"top", "configure", "accepted and does nothing: configure mode has no levels to climb"},
    {"exit", "both", "configure mode: back to operational; operational: leave the CLI"},
    {"quit, Ctrl-D", "both", "leave the CLI"},
    {"help", "both", "the commands, options, modifiers and exit codes (`vigil --help`)"},
    {"?", "both",
     "what may come next at the cursor, with types, ranges and choices; the line stays"},
    {"Tab", "both",
     "completes command words, config keys, names in your candidate and fixed values; after "
     "`delete` only what your candidate holds"},
    {"Ctrl-C", "both", "abandons the line being typed (never leaves the CLI)"},
};

}  // namespace

std::string cli_reference_markdown(const CommandTable& table) {
  std::string md =
      "# The `vigil` CLI\n\n"
      "Generated from the CLI's own tables (commands, options, output modifiers, exit codes) by\n"
      "`build/mgmt/cli/vigil-cli-reference > docs/cli.md`; a unit test fails when this page and\n"
      "the CLI differ. How to work with candidates, commits and conflicts: docs/operations.md;\n"
      "every config path: docs/config.md.\n\n"
      "## Synopsis\n\n"
      "```\n"
      "vigil [OPTION...] COMMAND [ARG...] [| MODIFIER [| MODIFIER...]]\n"
      "vigil -c 'COMMAND LINE'\n"
      "vigil [OPTION...]              (interactive prompt)\n"
      "```\n\n"
      "Command words may be abbreviated as long as they stay unique (`sh sys com` is `show\n"
      "system commit`). `PATH` is config keys and entry keys word by word, as docs/config.md\n"
      "names them (`interfaces lan0 mtu`, `routing static 10.9.0.0/16 next_hops`). A `?` as the\n"
      "last word describes what may come next instead of running the command. A word that is\n"
      "exactly `|` or `?` is read as a pipe or as help even when quoted: no value can be "
      "either.\n\n"
      "## Options\n\n| option | meaning |\n|---|---|\n";
  for (const CliOption& o : cli_options()) {
    md += "| " + code(o.flags) + " | " + cell(o.meaning) + " |\n";
  }
  md += "\n## Commands\n\n| command | arguments | what it does |\n|---|---|---|\n";
  for (const Command& c : table.commands()) {
    md += "| " + code(join_words(c.words)) + " | " +
          (c.args_hint.empty() ? "" : code(c.args_hint)) + " | " + cell(c.help) + " |\n";
  }
  md +=
      "\n## Output modifiers\n\n"
      "After any command, each its own word after a `|`, each word abbreviable; they apply in\n"
      "order (`show configuration | display set | match static | count`), `| compare` first.\n\n"
      "| modifier | what it does |\n|---|---|\n";
  for (const PipeModifier& m : pipe_modifiers()) {
    md += "| " + code(m.syntax) + " | " + cell(m.meaning) + " |\n";
  }
  md +=
      "\nOutput longer than the terminal goes through `less` unless `| no-more` is given;\n"
      "one-shot commands and output not to a terminal never page.\n\n"
      "## Interactive mode\n\n"
      "`vigil` with no command: a prompt `user@host>` (operational) or `user@host#`\n"
      "(configure), line editing, history in `~/.vigil_history`. Every command above works in\n"
      "both modes; these words and keys are the prompt's own:\n\n"
      "| typed | mode | what it does |\n|---|---|---|\n";
  for (const PromptWord& w : kPromptWords) {
    md += "| " + code(w.typed) + " | " + std::string(w.mode) + " | " + cell(w.meaning) + " |\n";
  }
  md +=
      "\n## Exit codes\n\n"
      "`--json` prints a failure as `{\"error\": {\"code\", \"kind\", \"message\", \"path\", "
      "\"rpc_code\"}}`\non standard output with the same exit code; `kind` is the name below.\n\n"
      "| code | kind | meaning |\n|---|---|---|\n";
  for (const ExitCode& e : exit_codes()) {
    md += "| " + std::to_string(e.code) + " | `" + std::string(e.kind) + "` | " + cell(e.meaning) +
          " |\n";
  }
  return md;
}

}  // namespace vigil::mgmt::cli

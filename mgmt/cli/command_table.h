// The CLI's commands, declared once: matching, help and (later) completion all come from the
// table, so a command cannot exist without its help text.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mgmt/cli/command.h"

namespace vigil::mgmt::cli {

struct Command {
  std::vector<std::string> words;  // {"show", "version"}
  std::string args_hint;           // "" or "<name>" for help
  std::string help;
  std::function<Output(Invocation&)> run;
};

struct Match {
  const Command* command;
  std::vector<std::string> rest;  // words after the command's own
};

class CommandTable {
 public:
  void add(Command command);

  // The command whose words are the longest prefix of `words`.
  std::optional<Match> match(const std::vector<std::string>& words) const;
  // `words` with each command word given as a unique abbreviation spelled out, as Junos
  // takes `sh conf` for `show configuration`; arguments and ambiguous words stay as typed.
  std::vector<std::string> expand(const std::vector<std::string>& words) const;
  // Commands that start with `prefix`, for "did you mean" and completion.
  std::vector<const Command*> completions(const std::vector<std::string>& prefix) const;
  // Aligned help lines for every command.
  std::string help() const;
  // Every command, in the order added (docs/cli.md lists them so).
  const std::vector<Command>& commands() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

}  // namespace vigil::mgmt::cli

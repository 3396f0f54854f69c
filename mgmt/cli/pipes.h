// Junos's output modifiers after a command: `show configuration | display set | match static`.
//   | display set     the config as the set commands that build it
//   | display json    the command's --json output (structured config for show configuration)
//   | match RE        only lines RE matches (RE2 syntax); | except RE: only the others
//   | count           how many lines, instead of the lines
//   | no-more         not through the pager
//   | compare [rollback N]   the config's differences: configure mode's `show` against
//                            running (or rollback N); `show configuration` against rollback N
//                            (default 1), as Junos shows what the last commit changed
// Each word may be abbreviated as far as it stays unique (`| m static`, `| disp set`). A `|`
// is its own word; a value that is exactly `|` cannot follow `set`.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mgmt/cli/command.h"

namespace vigil::mgmt::cli {

enum class PipeKind { kDisplaySet, kDisplayJson, kMatch, kExcept, kCount, kNoMore, kCompare };

struct PipeStage {
  PipeKind kind;
  std::string arg;  // the pattern of match/except; compare's rollback number ("" if none)
};

struct Pipeline {
  std::vector<std::string> command;  // the words before the first `|`
  std::vector<PipeStage> stages;
};

// The command and its stages; an Output (usage, exit 64) when a stage is not understood.
std::variant<Pipeline, Output> parse_pipeline(const std::vector<std::string>& words);

// The stages that work on what a command printed (all but compare, which picks the command,
// and display json, which asks for its JSON), in order. A failed Output passes unchanged.
Output apply_stages(Output o, const std::vector<PipeStage>& stages);

// "display json" among the stages.
bool wants_json(const std::vector<PipeStage>& stages);

// A config document's text (YAML) as `set` lines, one per line, values quoted as the CLI
// reads them back; or the Output saying why it cannot be.
std::variant<std::string, Output> display_set(const std::string& yaml_text);

// One output modifier as --help and docs/cli.md describe it.
struct PipeModifier {
  std::string_view syntax;  // "| match RE"
  std::string_view meaning;
};
std::span<const PipeModifier> pipe_modifiers();

// The words of pipeline stages, for completion after `|`.
std::vector<std::string> pipe_words(const std::vector<std::string>& after_bar);

}  // namespace vigil::mgmt::cli

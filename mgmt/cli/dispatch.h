// From words to a command's Output: the table's longest match, "did you mean" for the rest,
// configure mode's own `show` and `show | compare`, and what may come next for completion.
// One-shot and interactive mode both go through here.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mgmt/cli/command.h"
#include "mgmt/cli/command_table.h"

namespace vigil::mgmt::cli {

// One option of `vigil`'s command line.
struct CliOption {
  std::string_view flags;  // "--socket PATH"
  std::string_view meaning;
};
std::span<const CliOption> cli_options();

// `vigil --help` and interactive `help`.
std::string usage_text(const CommandTable& table);

Output dispatch(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& words,
                bool json);

// An interactive line: `help`, and in configure mode `show` (the candidate) and
// `show | compare`, then anything dispatch() takes.
Output run_line(const CommandTable& table, Vigild& vigild, const std::vector<std::string>& words,
                bool json, bool configure);

// Words that may follow `words`: the table's next words, or for set/delete the schema's (asked
// of vigild).
std::vector<std::string> complete_words(const CommandTable& table, Vigild& vigild,
                                        const std::vector<std::string>& words, bool configure);

}  // namespace vigil::mgmt::cli

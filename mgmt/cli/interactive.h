// The interactive CLI: a prompt with line editing, history (~/.vigil_history) and tab
// completion, an operational mode (`alice@edge1>`) and a configure mode (`alice@edge1#`) as
// on Junos.
// The command table and the one-shot path do the work; this file only reads lines.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace vigil::mgmt::cli {

struct InteractiveHooks {
  // Runs one command line already split into words; returns its exit status.
  std::function<int(const std::vector<std::string>& words, bool configure_mode)> run;
  // What may come next after `words` (the partial word being typed is not included).
  std::function<std::vector<std::string>(const std::vector<std::string>& words,
                                         bool configure_mode)>
      complete;
  // What `?` shows at the cursor: what may come next after `words`, with types.
  std::function<std::string(const std::vector<std::string>& words, bool configure_mode)> describe;
  // Whether the user's candidate holds changes not committed (asked before leaving).
  std::function<bool()> uncommitted;
  // The prompt's "user@host".
  std::string prompt_name = "vigil";
};

// Reads commands until EOF, `exit` in operational mode, or `quit`. Returns 0.
int run_interactive(const InteractiveHooks& hooks);

}  // namespace vigil::mgmt::cli

#include "mgmt/cli/interactive.h"

#include <editline/readline.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "mgmt/cli/command.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {
namespace {

// readline's completion callbacks are plain C functions: they reach the hooks through these.
const InteractiveHooks* g_hooks = nullptr;
bool g_configure = false;

char* next_match(const char* text, int state) {
  static std::vector<std::string> matches;
  static size_t index = 0;
  if (state == 0) {
    const std::string before(rl_line_buffer, static_cast<size_t>(rl_point) - std::strlen(text));
    matches.clear();
    index = 0;
    for (const auto& w : g_hooks->complete(split_words(before).words, g_configure)) {
      if (w.starts_with(text)) {
        matches.push_back(w);
      }
    }
    std::sort(matches.begin(), matches.end());
    matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  }
  return index < matches.size() ? ::strdup(matches[index++].c_str()) : nullptr;
}

char** complete(const char* text, int, int) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  return rl_completion_matches(text, next_match);
}

// `?` shows what may come next at the cursor and leaves the line as it was (Junos): only the
// words before the one being typed count.
int show_help(int, int) {
  std::string before(rl_line_buffer, static_cast<size_t>(rl_point));
  SplitLine split = split_words(before);
  if (!before.empty() && before.back() != ' ' && !split.words.empty()) {
    split.words.pop_back();
  }
  std::cout << "\n"
            << (g_hooks->describe ? g_hooks->describe(split.words, g_configure) : "") << std::flush;
  rl_forced_update_display();  // the prompt and the line again, below the help
  return 0;
}

// Ctrl-C abandons the line being typed, not the CLI (nor the SSH session it is the shell of).
volatile sig_atomic_t g_interrupted = 0;

void on_interrupt(int) {
  g_interrupted = 1;
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/tmp") + "/.vigil_history";
}

}  // namespace

int run_interactive(const InteractiveHooks& hooks) {
  g_hooks = &hooks;
  rl_readline_name = "vigil";
  rl_attempted_completion_function = complete;
  rl_initialize();
  rl_add_defun("vigil-describe", show_help, '?');
  struct sigaction interrupt {};
  interrupt.sa_handler = on_interrupt;  // no SA_RESTART: the read returns, readline gives up
  sigemptyset(&interrupt.sa_mask);
  sigaction(SIGINT, &interrupt, nullptr);
  using_history();
  stifle_history(1000);
  const std::string history = history_path();
  read_history(history.c_str());
  if (::isatty(STDIN_FILENO)) {
    std::cout << "Vigil CLI. `help` lists commands, Tab completes, `configure` edits the "
                 "config, `exit` leaves.\n";
  }
  // Leaving (exit, quit, Ctrl-D) with uncommitted changes warns once; the same again leaves
  // (the candidate stays for the next session).
  bool warned = false;
  auto may_leave = [&] {
    if (warned || !hooks.uncommitted || !hooks.uncommitted()) {
      return true;
    }
    warned = true;
    std::cout << "The configuration has been changed but not committed: `commit`, `discard`, "
                 "or leave again to keep it as your candidate for later.\n";
    return false;
  };
  while (true) {
    g_interrupted = 0;  // a Ctrl-C while the last command ran is not about this line
    const std::string prompt = hooks.prompt_name + (g_configure ? "# " : "> ");
    char* raw = readline(prompt.c_str());
    if (g_interrupted != 0) {
      g_interrupted = 0;
      std::free(raw);
      std::cout << "\n";
      continue;
    }
    if (raw == nullptr) {
      std::cout << "\n";
      if (may_leave()) {
        break;
      }
      continue;
    }
    const std::string line(raw);
    std::free(raw);
    const SplitLine split = split_words(line);
    const auto& words = split.words;
    if (words.empty() && !split.unterminated) {
      continue;
    }
    add_history(line.c_str());
    // Written at once, so a dropped SSH session loses nothing.
    write_history(history.c_str());
    if (split.unterminated) {
      std::cerr << "vigil: unterminated quote or trailing backslash: nothing run\n";
      continue;
    }
    const bool leaving = words[0] == "quit" || words[0] == "exit";
    if (leaving && !may_leave()) {
      continue;
    }
    warned = warned && leaving;
    if (words[0] == "quit" || (words[0] == "exit" && !g_configure)) {
      break;
    }
    if (words[0] == "exit") {
      g_configure = false;
      continue;
    }
    if (words == std::vector<std::string>{"top"} && g_configure) {
      continue;  // the configuration has no levels to climb: always at the top
    }
    if (g_configure && words == std::vector<std::string>{"commit", "and-quit"}) {
      const int status = hooks.run({"commit"}, true);
      if (status == kExitOk || status == kExitNothing) {
        g_configure = false;
      }
      continue;
    }
    if (words[0] == "configure" && !g_configure) {
      g_configure = true;
      std::cout << "Entering configuration mode: set, delete, show, show | compare, commit, "
                   "exit.\n";
      continue;
    }
    hooks.run(words, g_configure);
  }
  write_history(history.c_str());
  g_hooks = nullptr;
  return 0;
}

}  // namespace vigil::mgmt::cli

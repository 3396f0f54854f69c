// Running another program to completion (FRR's vtysh and frr-reload.py) with everything about it
// bounded: the time it may take (killed, with its whole process group, when over), what it may
// write (what is past the bound is read and dropped, so it never blocks on a full pipe, and the
// result says it was cut). No shell: the arguments reach the program as given.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace vigil {

struct CommandOptions {
  std::chrono::milliseconds timeout{10'000};
  size_t max_output = size_t{1} << 20;  // per stream
  std::string stdin_data;               // written to its standard input, which is then closed
};

struct CommandResult {
  bool started = false;    // false: it could not be run at all (error says why)
  bool timed_out = false;  // killed for taking longer than the timeout
  int exit_code = -1;      // when it exited (not signalled)
  int signal = 0;          // the signal that ended it, if one did
  bool truncated = false;  // stdout or stderr went past max_output
  std::string out, err;
  std::string error;  // why it could not be run
  bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
  // "exit 2", "signal KILL", "timed out after 10000 ms", or the reason it did not start.
  std::string how() const;
};

// Runs argv[0] (an absolute path) with argv, waiting for it to end.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

// The boundary to programs, so what drives them is testable with a fake.
using CommandRunner =
    std::function<CommandResult(const std::vector<std::string>& argv, const CommandOptions&)>;

}  // namespace vigil

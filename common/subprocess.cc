#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace vigil {

std::string CommandResult::how() const {
  if (!started) {
    return error;
  }
  if (timed_out) {
    return "timed out";
  }
  if (!error.empty()) {
    return error;  // could not be run (exit 127 from the child before exec)
  }
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return std::string("signal ") + (name != nullptr ? name : std::to_string(signal));
  }
  return "exit " + std::to_string(exit_code);
}

namespace {

struct Pipe {
  UniqueFd read, write;
};

bool make_pipe(Pipe& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  p.read.reset(fds[0]);
  p.write.reset(fds[1]);
  return true;
}

// Appends what `fd` has now to `into`, keeping at most `max`; false once it reached EOF.
bool drain(int fd, std::string& into, size_t max, bool& truncated) {
  char buf[16384];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) {
    return errno == EINTR || errno == EAGAIN;
  }
  if (n == 0) {
    return false;
  }
  const size_t room = max > into.size() ? max - into.size() : 0;
  if (static_cast<size_t>(n) > room) {
    truncated = true;
  }
  into.append(buf, std::min(room, static_cast<size_t>(n)));
  return true;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  if (argv.empty() || !argv[0].starts_with('/')) {
    result.error = "no program to run (an absolute path is needed)";
    return result;
  }
  Pipe in, out, err;
  if (!make_pipe(in) || !make_pipe(out) || !make_pipe(err)) {
    result.error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return result;
  }
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.error = std::string("cannot fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    // Its own process group, so a timeout kills what it started too (vtysh under
    // frr-reload.py).
    ::setpgid(0, 0);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(in.read.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0 ||
        ::dup2(err.write.get(), 2) < 0) {
      ::_exit(127);
    }
    ::close_range(3, ~0U, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  result.started = true;
  in.read.reset();
  out.write.reset();
  err.write.reset();
  ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (options.stdin_data.empty()) {
    in.write.reset();
  }

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_open ? out.read.get() : -1, POLLIN, 0},
                     {err_open ? err.read.get() : -1, POLLIN, 0},
                     {in.write.valid() ? in.write.get() : -1, POLLOUT, 0}};
    const int n = ::poll(fds, 3, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) {
      result.timed_out = true;  // cannot wait on it: treat as hung rather than spin
      ::kill(-pid, SIGKILL);
      break;
    }
    if (n <= 0) {
      continue;
    }
    if (fds[0].revents != 0) {
      out_open = drain(out.read.get(), result.out, options.max_output, result.truncated);
    }
    if (fds[1].revents != 0) {
      err_open = drain(err.read.get(), result.err, options.max_output, result.truncated);
    }
    if (fds[2].revents != 0) {
      const ssize_t w = ::write(in.write.get(), options.stdin_data.data() + written,
                                options.stdin_data.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      }
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == options.stdin_data.size()) {
        in.write.reset();
      }
    }
  }
  // Its streams closed; it may still not exit (it closed them itself and hangs): the same
  // deadline holds for the wait.
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      break;
    }
    if (r < 0 && errno != EINTR) {
      result.error = std::string("cannot wait for it: ") + std::strerror(errno);
      result.started = false;
      return result;
    }
    if (r == 0 && std::chrono::steady_clock::now() >= deadline && !result.timed_out) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    if (r == 0) {
      ::poll(nullptr, 0, 5);
    }
  }
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  if (result.exit_code == 127 && result.out.empty() && result.err.empty()) {
    result.error = argv[0] + " could not be run";
  }
  return result;
}

}  // namespace vigil

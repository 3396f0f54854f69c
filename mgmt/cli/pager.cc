#include "mgmt/cli/pager.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace vigil::mgmt::cli {
namespace {

constexpr const char* kLess = "/usr/bin/less";

// Writes all of `text` to `fd`; stops quietly when the reader has gone (q in less).
void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

bool longer_than_screen(const std::string& text, int rows) {
  const auto lines = std::count(text.begin(), text.end(), '\n');
  return rows > 0 && lines >= rows - 1;
}

void print_paged(const std::string& text) {
  winsize size{};
  const bool terminal = ::isatty(STDOUT_FILENO) != 0 && ::isatty(STDIN_FILENO) != 0 &&
                        ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0;
  if (!terminal || !longer_than_screen(text, size.ws_row) || ::access(kLess, X_OK) != 0) {
    std::cout << text << std::flush;
    return;
  }
  std::cout << std::flush;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::cout << text << std::flush;
    return;
  }
  // Quitting less early closes the pipe: the write fails with EPIPE instead of killing us.
  struct sigaction ignore {};
  struct sigaction old_pipe {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &old_pipe);
  // The CLI may be a login shell with a restricted role: less must not be a way out of it
  // (no shell escapes, no editor, no other files, no input preprocessor).
  const char* env[] = {"LESSSECURE=1", "LESSCHARSET=utf-8", nullptr, nullptr};
  std::string term = "TERM=";
  if (const char* t = std::getenv("TERM"); t != nullptr && *t != '\0') {
    term += t;
    env[2] = term.c_str();  // how to drive the screen; nothing else of ours goes to less
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    ::dup2(fds[0], STDIN_FILENO);  // the terminal is still less's stderr/tty for keys
    // -F: quit when it fits after all; -R: colours as they are; -X: leave the text on screen.
    const char* argv[] = {"less", "-FRX", "-Ps---(more)---", nullptr};
    ::execve(kLess, const_cast<char* const*>(argv), const_cast<char* const*>(env));
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid > 0) {
    write_all(fds[1], text);
  } else {
    std::cout << text << std::flush;
  }
  ::close(fds[1]);
  if (pid > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      std::cout << text << std::flush;  // less could not start: the text, unpaged
    }
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);
}

}  // namespace vigil::mgmt::cli

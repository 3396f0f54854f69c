// Turns SIGTERM/SIGINT (stop) and SIGHUP (hangup) into event-loop callbacks through a
// signalfd, so handlers run as ordinary code rather than in async-signal context.
#pragma once

#include <functional>

#include "common/event_loop.h"
#include "common/expected.h"
#include "common/unique_fd.h"

namespace vigil {

class SignalWatcher {
 public:
  struct Handlers {
    std::function<void(int signo)> stop;  // SIGTERM, SIGINT
    std::function<void()> hangup;         // SIGHUP
  };

  // Blocks the signals in the calling thread (threads created later inherit the mask, so call
  // this before starting any), ignores SIGPIPE, and opens the signalfd.
  static Expected<SignalWatcher> install();

  Status attach(EventLoop& loop, Handlers handlers);

 private:
  explicit SignalWatcher(UniqueFd fd) : fd_(std::move(fd)) {}
  void on_readable();

  UniqueFd fd_;
  Handlers handlers_;
};

}  // namespace vigil

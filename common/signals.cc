#include "common/signals.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vigil {

Expected<SignalWatcher> SignalWatcher::install() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return fail("cannot block signals");
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd.valid()) {
    return fail(std::string("signalfd: ") + std::strerror(errno));
  }
  return SignalWatcher(std::move(fd));
}

Status SignalWatcher::attach(EventLoop& loop, Handlers handlers) {
  handlers_ = std::move(handlers);
  return loop.add(fd_.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
}

void SignalWatcher::on_readable() {
  signalfd_siginfo info{};
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int signo = static_cast<int>(info.ssi_signo);
    if (signo == SIGHUP) {
      if (handlers_.hangup) {
        handlers_.hangup();
      }
    } else if (handlers_.stop) {
      handlers_.stop(signo);
    }
  }
}

}  // namespace vigil

#include "mgmt/supervisor.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/logging.h"

namespace vigil::mgmt {

Supervisor::Supervisor(EventLoop& loop, MetricsRegistry& metrics, std::vector<ChildSpec> children)
    : loop_(loop),
      restarts_metric_(metrics.counter("vigil_component_restarts_total",
                                       "Times vigild restarted a component after it exited")) {
  for (auto& spec : children) {
    children_.push_back(Child{.spec = std::move(spec)});
  }
}

Supervisor::~Supervisor() {
  stop_all();
}

void Supervisor::start_all() {
  for (Child& c : children_) {
    spawn(c);
  }
}

void Supervisor::spawn(Child& c) {
  std::vector<char*> argv;
  for (auto& a : c.spec.argv) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // Signals blocked in vigild (for its signalfd) must not stay blocked in the child.
  sigset_t empty;
  sigemptyset(&empty);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    log::error("cannot fork", {{"component", c.spec.name}, {"error", std::strerror(errno)}});
    c.restart_at = Clock::now() + c.backoff;
    return;
  }
  c.pid = pid;
  c.started = Clock::now();
  // The raw syscall: glibc 2.36's <sys/pidfd.h> declares pidfd_open without extern "C".
  c.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (c.pidfd.valid()) {
    Child* child = &c;
    (void)loop_.add(c.pidfd.get(), EPOLLIN, [this, child](uint32_t) { on_exit(*child); });
  }
  log::info("started component", {{"component", c.spec.name}, {"pid", pid}});
}

void Supervisor::on_exit(Child& c) {
  int status = 0;
  if (::waitpid(c.pid, &status, WNOHANG) != c.pid) {
    return;
  }
  loop_.remove(c.pidfd.get());
  c.pidfd.reset();
  c.last_exit = WIFSIGNALED(status) ? std::string("signal ") + sigabbrev_np(WTERMSIG(status))
                                    : "exit " + std::to_string(WEXITSTATUS(status));
  c.pid = 0;
  if (c.stopping) {
    return;
  }
  if (Clock::now() - c.started > kHealthyAfter) {
    c.backoff = kFirstBackoff;
  }
  c.restart_at = Clock::now() + c.backoff;
  log::warn("component exited; restarting",
            {{"component", c.spec.name},
             {"how", c.last_exit},
             {"restart_in_ms", static_cast<int64_t>(c.backoff.count())}});
  c.backoff = std::min<std::chrono::milliseconds>(c.backoff * 2, kMaxBackoff);
}

void Supervisor::tick() {
  const auto now = Clock::now();
  for (Child& c : children_) {
    if (c.pid == 0 && !c.stopping && c.restart_at != Clock::time_point{} && now >= c.restart_at) {
      c.restart_at = {};
      ++c.restarts;
      restarts_metric_.Add({{"component", c.spec.name}}).Increment();
      spawn(c);
    }
  }
}

void Supervisor::stop_all(std::chrono::milliseconds grace) {
  for (Child& c : children_) {
    c.stopping = true;
    if (c.pid > 0) {
      ::kill(c.pid, SIGTERM);
    }
  }
  const auto deadline = Clock::now() + grace;
  for (Child& c : children_) {
    while (c.pid > 0) {
      int status = 0;
      const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
      if (r == c.pid || (r < 0 && errno == ECHILD)) {
        if (c.pidfd.valid()) {
          loop_.remove(c.pidfd.get());
          c.pidfd.reset();
        }
        c.pid = 0;
        break;
      }
      if (Clock::now() >= deadline) {
        ::kill(c.pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::vector<api::ProcessStatus> Supervisor::state() const {
  std::vector<api::ProcessStatus> out;
  for (const Child& c : children_) {
    out.push_back({.name = c.spec.name,
                   .supervised = true,
                   .state = c.pid > 0    ? "running"
                            : c.stopping ? "stopped"
                                         : "backoff",
                   .pid = c.pid,
                   .restarts = static_cast<uint64_t>(c.restarts),
                   .last_exit = c.last_exit});
  }
  return out;
}

}  // namespace vigil::mgmt

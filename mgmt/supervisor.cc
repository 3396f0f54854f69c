#include "mgmt/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/json_rpc_client.h"
#include "common/logging.h"
#include "common/pid_file.h"
#include "common/privileges.h"
#include "common/unix_socket.h"

namespace vigil::mgmt {

namespace {

std::string running_user(pid_t pid);

// Through the pidfd when there is one: an adopted process is reaped by someone else, and its
// pid may be reused by then; a pidfd always names the process it was opened for.
void signal_child(const Supervisor::Child& c, int sig) {
  if (c.pidfd.valid() && ::syscall(SYS_pidfd_send_signal, c.pidfd.get(), sig, nullptr, 0) == 0) {
    return;
  }
  if (!c.adopted) {
    ::kill(c.pid, sig);  // our child: its pid is ours until we reap it
  }
}

}  // namespace

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

bool Supervisor::ready_to_start(Child& c) {
  // Something must listen there, not only the file be left from one that died.
  if (c.spec.start_after_path.empty() ||
      connect_unix(c.spec.start_after_path, std::chrono::milliseconds(100))) {
    return true;
  }
  c.restart_at = Clock::now() + std::chrono::milliseconds(100);
  return false;
}

void Supervisor::start_all() {
  for (Child& c : children_) {
    switch (adopt(c)) {
      case Adoption::kAdopted:
        break;
      case Adoption::kNobody:
        if (ready_to_start(c)) {
          spawn(c);
        }
        break;
      case Adoption::kBusy:
        c.restart_at = Clock::now() + c.backoff;
        break;
    }
  }
  // One started anew has nothing the adopted ones that depend on it gave its predecessor
  // (zebra after a crash while vigild was away): they start again after it. Only once all
  // are adopted or started: the ones that depend on it come after it.
  for (const Child& c : children_) {
    if (!c.adopted && c.ever_started) {
      stop_dependents(c, /*adopted_only=*/true);
    }
  }
}

void Supervisor::stop_dependents(const Child& c, bool adopted_only) {
  const auto& with = c.spec.restart_with;
  for (Child& other : children_) {
    if (other.pid > 0 && (other.adopted || !adopted_only) &&
        std::find(with.begin(), with.end(), other.spec.name) != with.end()) {
      log::warn("stopping a component to start it again after the one it depends on",
                {{"component", other.spec.name}, {"after", c.spec.name}});
      signal_child(other, SIGTERM);
    }
  }
}

bool Supervisor::take(Child& c, pid_t pid) {
  c.pid = pid;
  c.adopted = true;
  c.started = Clock::now();
  watch(c);
  if (!c.pidfd.valid()) {
    c.pid = 0;
    c.adopted = false;
    return false;  // gone meanwhile
  }
  return true;
}

Supervisor::Adoption Supervisor::adopt_by_pid_file(Child& c) {
  // The lock's holder as the kernel says, not the file's content (FRR's user writes it).
  const pid_t pid = pid_file_lock_holder(c.spec.pid_file);
  if (pid <= 1) {
    return Adoption::kNobody;
  }
  // Held through a pidfd before it is checked, so a pid reused meanwhile is not what is kept.
  if (!take(c, pid)) {
    return Adoption::kNobody;
  }
  std::error_code ec;
  const auto want = std::filesystem::weakly_canonical(c.spec.argv.at(0), ec).string();
  const std::string user = running_user(pid);
  if (process_executable(pid) != want || (user != "root" && user != c.spec.pid_file_user)) {
    // Another program locks our pid file: whatever it is, starting ours would fail to lock
    // it too, so it is left alone and looked at again after a backoff.
    log::warn("a process that is not this component holds its pid file; not adopting",
              {{"component", c.spec.name}, {"pid", pid}, {"user", user}});
    loop_.remove(c.pidfd.get());
    c.pidfd.reset();
    c.pid = 0;
    c.adopted = false;
    return Adoption::kBusy;
  }
  log::info("adopted a component that was already running",
            {{"component", c.spec.name}, {"pid", c.pid}});
  return Adoption::kAdopted;
}

Supervisor::Adoption Supervisor::adopt(Child& c) {
  if (!c.spec.pid_file.empty()) {
    return adopt_by_pid_file(c);
  }
  if (c.spec.socket.empty()) {
    return Adoption::kNobody;
  }
  // The listener's credentials come from the kernel (SO_PEERCRED on a connected socket gives
  // the process that listens, as it was when it called listen()), not from what it says; it
  // must have listened as vigild's user. A component told to drop to another user (--user)
  // listens before it drops, so it still shows as root here.
  int error = 0;
  auto fd = connect_unix(c.spec.socket, std::chrono::milliseconds(500), &error);
  if (!fd) {
    return nothing_listens(error) ? Adoption::kNobody : Adoption::kBusy;
  }
  const rpc::PeerCredentials listener = peer_credentials(fd->get());
  if (listener.pid <= 0 || !rpc::is_owner(listener)) {
    log::warn("a process not run by vigild's user serves a component's socket; not adopting",
              {{"component", c.spec.name}, {"pid", listener.pid}, {"uid", listener.uid}});
    return Adoption::kNobody;  // starting ours fails loudly: the socket is not free
  }
  rpc::Client client(c.spec.socket);
  auto status = client.call("status", nlohmann::json::object(), std::chrono::milliseconds(1000));
  if (rpc::is_error(status) || !std::get<nlohmann::json>(status).is_object() ||
      std::get<nlohmann::json>(status).value("name", "") != c.spec.name) {
    log::warn("the process on a component's socket does not answer as it yet; trying again",
              {{"component", c.spec.name}, {"pid", listener.pid}});
    return Adoption::kBusy;
  }
  if (!take(c, listener.pid)) {
    return Adoption::kNobody;
  }
  log::info("adopted a component that was already running",
            {{"component", c.spec.name}, {"pid", c.pid}});
  return Adoption::kAdopted;
}

void Supervisor::watch(Child& c) {
  // The raw syscall: glibc 2.36's <sys/pidfd.h> declares pidfd_open without extern "C".
  c.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0)));
  if (c.pidfd.valid()) {
    Child* child = &c;
    (void)loop_.add(c.pidfd.get(), EPOLLIN, [this, child](uint32_t) { on_exit(*child); });
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
    // Nothing of vigild's but the standard streams: a long-lived child (FRR's daemons) must
    // not hold its sockets or files open.
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    log::error("cannot fork", {{"component", c.spec.name}, {"error", std::strerror(errno)}});
    c.restart_at = Clock::now() + c.backoff;
    return;
  }
  c.pid = pid;
  c.adopted = false;
  c.ever_started = true;
  c.started = Clock::now();
  watch(c);
  log::info("started component", {{"component", c.spec.name}, {"pid", pid}});
}

void Supervisor::on_exit(Child& c) {
  if (c.adopted) {
    // Not our child: the pidfd says it is gone, its exit status went to its parent.
    c.last_exit = "exited (adopted: status unknown)";
  } else {
    int status = 0;
    if (::waitpid(c.pid, &status, WNOHANG) != c.pid) {
      return;
    }
    c.last_exit = WIFSIGNALED(status) ? std::string("signal ") + sigabbrev_np(WTERMSIG(status))
                                      : "exit " + std::to_string(WEXITSTATUS(status));
  }
  loop_.remove(c.pidfd.get());
  c.pidfd.reset();
  c.adopted = false;
  c.pid = 0;
  // One that dropped root (vigil-l7 --user) could not remove its socket from root's
  // /run/vigil; one started by hand meanwhile keeps its own.
  remove_stale_socket(c.spec.socket);
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
  stop_dependents(c);
}

void Supervisor::tick() {
  const auto now = Clock::now();
  for (Child& c : children_) {
    if (c.pid == 0 && !c.stopping && c.restart_at != Clock::time_point{} && now >= c.restart_at) {
      c.restart_at = {};
      // One that exited may have been replaced by hand, and one that was busy at our start may
      // answer now: adopt before starting another.
      switch (adopt(c)) {
        case Adoption::kAdopted:
          break;
        case Adoption::kBusy:
          c.restart_at = now + c.backoff;
          c.backoff = std::min<std::chrono::milliseconds>(c.backoff * 2, kMaxBackoff);
          break;
        case Adoption::kNobody:
          if (!ready_to_start(c)) {
            break;
          }
          if (c.ever_started) {
            ++c.restarts;
            restarts_metric_.Add({{"component", c.spec.name}}).Increment();
          }
          spawn(c);
          break;
      }
    }
  }
}

void Supervisor::stop_all(std::chrono::milliseconds grace) {
  for (Child& c : children_) {
    c.stopping = true;
    if (c.pid > 0) {
      signal_child(c, SIGTERM);
    }
  }
  const auto deadline = Clock::now() + grace;
  for (Child& c : children_) {
    while (c.pid > 0) {
      int status = 0;
      bool gone = false;
      if (c.adopted) {
        pollfd pfd{c.pidfd.get(), POLLIN, 0};
        gone = !c.pidfd.valid() || ::poll(&pfd, 1, 0) == 1;
      } else {
        const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
        gone = r == c.pid || (r < 0 && errno == ECHILD);
      }
      if (gone) {
        if (c.pidfd.valid()) {
          loop_.remove(c.pidfd.get());
          c.pidfd.reset();
        }
        c.pid = 0;
        remove_stale_socket(c.spec.socket);
        break;
      }
      if (Clock::now() >= deadline) {
        signal_child(c, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

namespace {

// The effective uid of `pid` as the kernel has it (/proc/<pid>/status), as a user name; "" when
// the process is gone. A component drops to its user after starting, so this is what it runs as
// now, not what it was started as.
std::string running_user(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Uid:")) {
      std::istringstream fields(line.substr(4));
      unsigned long real = 0;
      unsigned long effective = 0;
      if (fields >> real >> effective) {
        return user_name(static_cast<uid_t>(effective));
      }
    }
  }
  return "";
}

}  // namespace

std::vector<api::ProcessStatus> Supervisor::state() const {
  std::vector<api::ProcessStatus> out;
  for (const Child& c : children_) {
    out.push_back({.name = c.spec.name,
                   .supervised = true,
                   .state = c.pid > 0    ? "running"
                            : c.stopping ? "stopped"
                                         : "backoff",
                   .pid = c.pid,
                   .user = c.pid > 0 ? running_user(c.pid) : "",
                   .restarts = static_cast<uint64_t>(c.restarts),
                   .last_exit = c.last_exit});
  }
  return out;
}

}  // namespace vigil::mgmt

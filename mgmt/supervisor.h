// Starts the component processes, restarts one that exits with exponential backoff, and
// reports their state. Exits are noticed through a pidfd on the event loop, so there is no
// SIGCHLD handler and no polling of waitpid. A component still running from a vigild that
// died (kill -9) is adopted, not started again: forwarding must not stop because vigild did.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/api/vigild_answers.h"
#include "common/event_loop.h"
#include "common/metrics.h"
#include "common/unique_fd.h"

namespace vigil::mgmt {

struct ChildSpec {
  std::string name;               // "vigil-dp"
  std::vector<std::string> argv;  // binary and arguments
  std::string socket;             // its control socket: where a running one is found
  // For a program without a control socket (FRR's daemons): the pid file a running one is
  // found by, adopted when that process is still the program (its /proc exe) and runs as
  // root or `pid_file_user`.
  std::string pid_file;
  std::string pid_file_user;
  // Children stopped (SIGTERM) when this one exits, so they start again after it: FRR's bgpd,
  // bfdd and staticd do not give a new zebra what they gave the one that died.
  std::vector<std::string> restart_with;
  // Started only once something listens on this UNIX socket (zebra's zserv.api, for FRR's
  // daemons that connect to it: started before it, they retry only every 10 s).
  std::string start_after_path;
};

class Supervisor {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kFirstBackoff = std::chrono::milliseconds(500);
  static constexpr auto kMaxBackoff = std::chrono::seconds(30);
  static constexpr auto kHealthyAfter = std::chrono::seconds(60);  // then backoff resets

  Supervisor(EventLoop& loop, MetricsRegistry& metrics, std::vector<ChildSpec> children);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Adopts each child already serving on its socket (as vigild's user, answering status
  // with its name) and starts the others.
  void start_all();
  // Called often (vigild's 1 s tick and a faster one): starts children whose backoff ended.
  void tick();
  // SIGTERM to every child, SIGKILL to those still alive after `grace`.
  void stop_all(std::chrono::milliseconds grace = std::chrono::seconds(2));

  // Each child: its state (running, backoff, stopped), pid, restarts and last exit.
  std::vector<api::ProcessStatus> state() const;

  struct Child {
    ChildSpec spec;
    pid_t pid = 0;
    UniqueFd pidfd;
    int restarts = 0;
    std::string last_exit;  // "exit 1", "signal KILL"
    Clock::time_point started{};
    Clock::time_point restart_at{};
    std::chrono::milliseconds backoff = kFirstBackoff;
    bool stopping = false;
    bool adopted = false;       // not our child: no exit status, waited for through the pidfd
    bool ever_started = false;  // by this vigild: a start after that is a restart
  };

 private:
  void spawn(Child& c);
  // Whether `c` may start now; if not, it is tried again shortly (not counted as a restart).
  bool ready_to_start(Child& c);
  enum class Adoption { kAdopted, kNobody, kBusy };
  // kBusy: a process of vigild's user listens on the socket but did not answer as the
  // component in time; starting another would only fail to listen, so adoption is retried.
  Adoption adopt(Child& c);
  Adoption adopt_by_pid_file(Child& c);
  // SIGTERM to the running children `c` names in restart_with (only adopted ones if asked):
  // they start again after it.
  void stop_dependents(const Child& c, bool adopted_only = false);
  // Watches a found process `pid` as `c`; false when it is gone meanwhile.
  bool take(Child& c, pid_t pid);
  void watch(Child& c);
  void on_exit(Child& c);

  EventLoop& loop_;
  prometheus::Family<prometheus::Counter>& restarts_metric_;
  std::vector<Child> children_;
};

}  // namespace vigil::mgmt

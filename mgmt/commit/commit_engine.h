// The commit transaction: validate the candidate, find what changed, have every affected
// component prepare its part, activate all or none, and only then record the new running
// config. Also `commit confirmed`: a deadline after which the previous config comes back by
// itself, persisted so a restart of vigild does not forget it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/document.h"
#include "mgmt/commit/component.h"
#include "mgmt/store/config_store.h"

namespace vigil::mgmt::commit {

// How a commit refused for an invalid candidate begins its error.
inline constexpr std::string_view kInvalidCandidate = "the candidate has ";
// How a commit refused because running changed under the candidate begins its error.
inline constexpr std::string_view kStaleCandidate = "the running config changed ";
// How a commit that would change nothing begins its error: it is not recorded, since each
// commit kept pushes the oldest of the kept ones out.
inline constexpr std::string_view kNothingToCommit = "nothing to commit: ";
// How a confirm with no commit confirmed pending begins its error.
inline constexpr std::string_view kNothingToConfirm = "nothing to confirm: ";

// Unix seconds now; injectable so the confirm timer is testable without waiting.
using UnixClock = std::function<int64_t()>;
int64_t system_unix_clock();
// Seconds on a clock that never jumps (CLOCK_MONOTONIC), for backoffs: a wall clock set back
// an hour must not silence reconcile for an hour.
int64_t steady_seconds();

struct CommitRequest {
  std::string text;
  std::string user;
  std::string comment;
  std::optional<int> confirm_minutes;  // commit confirmed N
  std::string kind = "commit";
  // The running config's commit the candidate was made from: a commit made since (by another
  // user, a rollback, a confirm deadline) refuses it (kStaleCandidate) unless it is forced.
  std::optional<uint64_t> based_on;
  bool force = false;
};

struct CommitOutcome {
  store::CommitRecord record;
  std::vector<std::string> changed_sections;
  std::vector<std::string> applied_by;   // components that prepared and activated
  std::vector<std::string> not_running;  // will get the config when they start
  std::vector<std::string> restarting;   // applied it by starting again (vigil-dp's DPDK)
  std::optional<int64_t> confirm_deadline;
  // The candidate was the running config and a plain commit confirmed the pending commit
  // confirmed: nothing was applied or recorded (record is the running commit's).
  bool confirmed_pending = false;
};

// commit, confirm, tick and reconcile talk to components and may take seconds: vigild calls
// them from one worker thread, never two at once. reachable(), running_config() and pending()
// may be called from any thread meanwhile.
class CommitEngine {
 public:
  // `clock` times confirm deadlines (persisted, so Unix time); `steady` times backoffs.
  CommitEngine(store::ConfigStore& store, std::vector<ComponentPtr> components, UnixClock clock,
               int64_t confirm_unit_seconds = 60, UnixClock steady = steady_seconds);

  // Fails with a message starting kInvalidCandidate when the candidate does not validate
  // (the caller's input is wrong, nothing was tried), otherwise with what went wrong where.
  Expected<CommitOutcome> commit(const CommitRequest& request);
  // Makes a pending `commit confirmed` permanent.
  Status confirm(const std::string& user);
  // Rolls back a `commit confirmed` whose deadline has passed. Returns what happened, or
  // nothing when no deadline is due.
  std::optional<Expected<CommitOutcome>> tick();

  // Gives the running config to every component that has become reachable since the last
  // call (started by the supervisor or by hand). Returns their names. A component that does
  // not answer is asked again only after kSilentBackoffSeconds, and one that refuses the
  // config after 1, 2, 4 ... 30 s.
  std::vector<std::string> reconcile();
  // Last known reachability, by component name.
  std::map<std::string, bool> reachable() const {
    std::lock_guard lock(shared_mutex_);
    return reachable_;
  }

  std::optional<store::PendingConfirm> pending() const { return store_.pending(); }
  // The running config, parsed once per commit rather than on every use.
  config::Config running_config() const {
    std::lock_guard lock(shared_mutex_);
    return running_config_;
  }
  store::ConfigStore& store() { return store_; }
  int64_t confirm_unit_seconds() const { return confirm_unit_seconds_; }

 private:
  // Refuses (kStaleCandidate, with what changed underneath) a request based on an older
  // running config than the current one, unless forced.
  Status check_based_on(const CommitRequest& request) const;
  // Gives `c` its `sections` of `doc` in a transaction of its own; aborts on failure.
  Status push(Component& c, const std::vector<std::string>& sections, const YAML::Node& doc);
  Status apply(uint64_t txid, const std::vector<std::string>& changed, const YAML::Node& old_doc,
               const YAML::Node& new_doc, CommitOutcome& outcome);

  static constexpr int64_t kSilentBackoffSeconds = 5;
  struct Reach {
    bool up = false;
    int64_t next_try = 0;  // steady seconds
    int failures = 0;      // refused pushes in a row
    int64_t instance = 0;  // SectionsAnswer::instance when last up
  };

  store::ConfigStore& store_;
  std::vector<ComponentPtr> components_;
  std::map<std::string, Reach> reach_;
  UnixClock clock_;
  UnixClock steady_;
  int64_t confirm_unit_seconds_;
  uint64_t next_txid_;
  std::string running_unreadable_;  // why the stored running config did not parse, or ""
  // What other threads read, under shared_mutex_.
  mutable std::mutex shared_mutex_;
  std::map<std::string, bool> reachable_;
  config::Config running_config_;
};

}  // namespace vigil::mgmt::commit

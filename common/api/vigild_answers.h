// What vigild answers for show.processes, show.commits and commit, declared once: vigild fills
// these structs and the CLI reads them back, so no key is spelled in two places. Every field
// has a default, so an answer without one (a vigild of another version) still reads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::api {

// A component vigild commits to, and supervises when started with --supervise.
struct ProcessStatus {
  std::string name;
  std::string socket;
  bool supervised = false;
  bool reachable = false;  // answered config.sections at the last reconcile
  std::string state;       // supervised: running, backoff or stopped
  int64_t pid = 0;
  std::string user;  // supervised and running: whom it runs as (its effective uid, the kernel's)
  uint64_t restarts = 0;
  std::string last_exit;  // "exited 1", "killed by SIGKILL"; empty before any
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProcessStatus, name, socket, supervised, reachable,
                                                state, pid, user, restarts, last_exit)

struct CommitEntry {
  uint64_t seq = 0;
  uint64_t rollback = 0;  // N of `rollback N`; 0 is running (only in show.commits)
  std::string user;
  int64_t time = 0;  // Unix seconds
  std::string comment;
  std::string kind;  // initial, commit, confirm-timeout
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CommitEntry, seq, rollback, user, time, comment,
                                                kind)

struct PendingConfirm {
  uint64_t commit = 0;       // the commit confirmed waiting
  uint64_t rollback_to = 0;  // what comes back at the deadline
  int64_t deadline = 0;      // Unix seconds
  std::string user;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PendingConfirm, commit, rollback_to, deadline, user)

struct CommitHistory {
  std::vector<CommitEntry> commits;               // newest first
  std::optional<PendingConfirm> pending_confirm;  // null when none
  // Why a pending-confirm record found at start could not be read ("" when fine): no
  // automatic rollback will happen, and the operator must confirm or roll back by hand.
  std::string pending_problem;
};

struct CommitResult {
  CommitEntry commit;
  std::vector<std::string> changed_sections;
  std::vector<std::string> applied_by;      // components that prepared and activated
  std::vector<std::string> not_running;     // will get the config when they start
  std::vector<std::string> restarting;      // applied it by starting again
  std::optional<int64_t> confirm_deadline;  // commit confirmed: Unix seconds
  // Nothing changed, and a plain commit confirmed the pending commit confirmed (`commit`).
  bool confirmed_pending = false;
};

// std::optional as null or the value, in both directions.
inline void to_json(nlohmann::json& j, const CommitHistory& h) {
  j = {{"commits", h.commits},
       {"pending_confirm", h.pending_confirm ? nlohmann::json(*h.pending_confirm) : nullptr},
       {"pending_problem", h.pending_problem}};
}
inline void from_json(const nlohmann::json& j, CommitHistory& h) {
  h.commits = j.value("commits", std::vector<CommitEntry>{});
  h.pending_problem = j.value("pending_problem", std::string());
  const auto p = j.find("pending_confirm");
  h.pending_confirm = p != j.end() && p->is_object()
                          ? std::optional<PendingConfirm>(p->get<PendingConfirm>())
                          : std::nullopt;
}
inline void to_json(nlohmann::json& j, const CommitResult& r) {
  j = {{"commit", r.commit},
       {"changed_sections", r.changed_sections},
       {"applied_by", r.applied_by},
       {"not_running", r.not_running},
       {"restarting", r.restarting}};
  if (r.confirm_deadline) {
    j["confirm_deadline"] = *r.confirm_deadline;
  }
  j["confirmed_pending"] = r.confirmed_pending;
}
inline void from_json(const nlohmann::json& j, CommitResult& r) {
  r.commit = j.value("commit", CommitEntry{});
  r.changed_sections = j.value("changed_sections", std::vector<std::string>{});
  r.applied_by = j.value("applied_by", std::vector<std::string>{});
  r.not_running = j.value("not_running", std::vector<std::string>{});
  r.restarting = j.value("restarting", std::vector<std::string>{});
  const auto d = j.find("confirm_deadline");
  r.confirm_deadline =
      d != j.end() && d->is_number() ? std::optional<int64_t>(d->get<int64_t>()) : std::nullopt;
  const auto c = j.find("confirmed_pending");
  r.confirmed_pending = c != j.end() && c->is_boolean() && c->get<bool>();
}

}  // namespace vigil::api

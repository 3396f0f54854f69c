// vigild's commit methods: commit (and commit confirmed), confirm, and the history they make
// (show.configuration, show.commits).
#include "common/api/vigild_answers.h"
#include "mgmt/api_errors.h"
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

namespace {

api::CommitEntry entry_of(const store::CommitRecord& r, uint64_t rollback = 0) {
  return {.seq = r.seq,
          .rollback = rollback,
          .user = r.user,
          .time = r.time,
          .comment = r.comment,
          .kind = r.kind};
}

// A commit's comment goes into its record, the history and the audit log.
constexpr size_t kMaxCommentBytes = 1024;

}  // namespace

void VigildService::commit(const json& params, const Caller& caller, rpc::Reply reply) {
  auto found = candidate_of(params, caller);
  if (!found) {
    return reply(rpc::invalid_params(found.error()));
  }
  const Candidate& cand = **found;
  std::optional<int> confirm;
  if (params.contains("confirm_minutes")) {
    const int m = params.at("confirm_minutes").get<int>();
    if (m < 1 || m > 65535) {
      return reply(rpc::invalid_params("confirm_minutes must be 1 to 65535"));
    }
    confirm = m;
  }
  std::string comment = params.value("comment", "");
  if (comment.size() > kMaxCommentBytes) {
    return reply(rpc::invalid_params("comment is longer than " + std::to_string(kMaxCommentBytes) +
                                     " bytes"));
  }
  // The engine's worker gets its own copy of the text and parses it there: the candidate's
  // YAML nodes are the loop's and are not shared between threads.
  const bool force = params.value("force", false);
  // An unmodified candidate too: its text is the running config of when it was read, and a
  // commit landing before this one runs must not be reverted by it.
  auto request =
      std::make_shared<commit::CommitRequest>(commit::CommitRequest{.text = cand.text,
                                                                    .user = caller.user,
                                                                    .comment = comment,
                                                                    .confirm_minutes = confirm,
                                                                    .based_on = cand.base_seq,
                                                                    .force = force});
  const CandidateKey key = own_key(params, caller);
  const bool taken = off_loop(
      *engine_worker_,
      [this, request, key, reply] {
        auto r = std::make_shared<Expected<commit::CommitOutcome>>(engine_->commit(*request));
        return std::function<void()>([this, request, key, reply, r] {
          const commit::CommitRequest& q = *request;
          if (!*r) {
            // An empty commit is refused, not failed: an alert on failed commits stays quiet.
            const std::string result =
                r->error().starts_with(commit::kNothingToCommit) ? "nothing" : "failed";
            commits_->Add({{"kind", "commit"}, {"result", result}}).Increment();
            audit_.record("commit", {{"user", q.user}, {"result", result}, {"error", r->error()}});
            const int code = r->error().starts_with(commit::kInvalidCandidate)  ? kCandidateInvalid
                             : r->error().starts_with(commit::kStaleCandidate)  ? kCandidateConflict
                             : r->error().starts_with(commit::kNothingToCommit) ? kNothingToDo
                                                                                : kCommitFailed;
            return reply(api_error(code, "commit failed: " + r->error()));
          }
          if ((*r)->confirmed_pending) {
            // Nothing changed: the plain commit only confirmed, and is audited as a confirm.
            audit_.record("confirm", {{"user", q.user}, {"by", "commit"}});
            return reply(json(
                api::CommitResult{.commit = entry_of((*r)->record), .confirmed_pending = true}));
          }
          commits_->Add({{"kind", "commit"}, {"result", "ok"}}).Increment();
          audit_.record("commit", {{"user", q.user},
                                   {"result", "ok"},
                                   {"seq", (*r)->record.seq},
                                   {"comment", q.comment},
                                   {"forced", q.force},
                                   {"confirm_minutes", q.confirm_minutes.value_or(0)}});
          // Edited again while the commit ran (another window of the same user): keep the edit.
          if (Candidate* c = candidates_->find(key); c != nullptr) {
            c->modified = c->text != q.text;
            c->base_seq = (*r)->record.seq;  // its edits were made on what is now running
          }
          refresh_running();
          reply(json(api::CommitResult{.commit = entry_of((*r)->record),
                                       .changed_sections = (*r)->changed_sections,
                                       .applied_by = (*r)->applied_by,
                                       .not_running = (*r)->not_running,
                                       .restarting = (*r)->restarting,
                                       .confirm_deadline = (*r)->confirm_deadline,
                                       .confirmed_pending = (*r)->confirmed_pending}));
        });
      },
      [this, request, reply](const std::string& what) {
        commits_->Add({{"kind", "commit"}, {"result", "failed"}}).Increment();
        audit_.record("commit", {{"user", request->user}, {"result", "failed"}, {"error", what}});
        reply(api_error(kCommitFailed, "commit failed: internal error: " + what));
      },
      /*trim=*/true);
  if (!taken) {
    reply(api_error(rpc::kServerBusy, "server busy: " + std::to_string(kMaxQueuedEngineJobs) +
                                          " commits are waiting already; try again shortly"));
  }
}

void VigildService::register_commit_methods() {
  add_deferred("commit", Role::kAdmin, [this](const json& p, const Caller& c, rpc::Reply reply) {
    commit(p, c, std::move(reply));
  });

  // Through the engine's worker too: a confirm never lands in the middle of a commit.
  add_deferred("confirm", Role::kAdmin, [this](const json&, const Caller& c, rpc::Reply reply) {
    const std::string user = c.user;
    const bool taken = off_loop(
        *engine_worker_,
        [this, user, reply] {
          const Status st = engine_->confirm(user);
          return std::function<void()>([this, user, reply, st] {
            if (!st) {
              return reply(api_error(
                  st.error().starts_with(commit::kNothingToConfirm) ? kNothingToDo : kCommitFailed,
                  st.error()));
            }
            audit_.record("confirm", {{"user", user}});
            reply(json::object());
          });
        },
        [reply](const std::string& what) {
          reply(api_error(kCommitFailed, "confirm failed: internal error: " + what));
        });
    if (!taken) {
      reply(api_error(rpc::kServerBusy, "server busy: commits are waiting; try again shortly"));
    }
  });

  add("show.configuration", Role::kViewer, [this](const json& p, const Caller&) -> rpc::CallResult {
    const size_t n = p.value("rollback", size_t{0});
    auto seq = store_->seq_of_rollback(n);
    if (n == 0 && !seq) {
      return json{{"text", store_->running_text()}, {"seq", 0}};
    }
    if (!seq) {
      return rpc::invalid_params(seq.error());
    }
    auto text = store_->text_of(*seq);
    if (!text) {
      return api_error(rpc::kInternalError, text.error());
    }
    return json{{"text", *text}, {"seq", *seq}};
  });

  add("show.commits", Role::kViewer, [this](const json&, const Caller&) -> rpc::CallResult {
    api::CommitHistory history;
    for (const auto& r : store_->history()) {
      history.commits.push_back(entry_of(r, history.commits.size()));
    }
    if (auto p = engine_->pending()) {
      history.pending_confirm = api::PendingConfirm{.commit = p->commit_seq,
                                                    .rollback_to = p->rollback_to_seq,
                                                    .deadline = p->deadline,
                                                    .user = p->user};
    }
    history.pending_problem = store_->pending_problem();
    return json(history);
  });
}

}  // namespace vigil::mgmt

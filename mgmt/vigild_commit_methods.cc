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

rpc::CallResult VigildService::commit(const json& params, const Caller& caller) {
  auto found = candidate_of(params, caller);
  if (!found) {
    return rpc::invalid_params(found.error());
  }
  Candidate& cand = **found;
  std::optional<int> confirm;
  if (params.contains("confirm_minutes")) {
    const int m = params.at("confirm_minutes").get<int>();
    if (m < 1 || m > 65535) {
      return rpc::invalid_params("confirm_minutes must be 1 to 65535");
    }
    confirm = m;
  }
  const std::string comment = params.value("comment", "");
  if (comment.size() > kMaxCommentBytes) {
    return rpc::invalid_params("comment is longer than " + std::to_string(kMaxCommentBytes) +
                               " bytes");
  }
  const bool reuse = cand.document.has_value() && cand.validated.has_value();
  auto r = engine_->commit({.text = cand.text,
                            .user = caller.user,
                            .comment = comment,
                            .confirm_minutes = confirm,
                            .document = reuse ? &*cand.document : nullptr,
                            .validated = reuse ? &*cand.validated : nullptr});
  if (!r) {
    commits_->Add({{"kind", "commit"}, {"result", "failed"}}).Increment();
    audit_.record("commit", {{"user", caller.user}, {"result", "failed"}, {"error", r.error()}});
    return api_error(kCommitFailed, "commit failed: " + r.error());
  }
  commits_->Add({{"kind", "commit"}, {"result", "ok"}}).Increment();
  audit_.record("commit", {{"user", caller.user},
                           {"result", "ok"},
                           {"seq", r->record.seq},
                           {"comment", comment},
                           {"confirm_minutes", confirm.value_or(0)}});
  cand.modified = false;
  refresh_running();
  return json(api::CommitResult{.commit = entry_of(r->record),
                                .changed_sections = r->changed_sections,
                                .applied_by = r->applied_by,
                                .not_running = r->not_running,
                                .confirm_deadline = r->confirm_deadline});
}

void VigildService::register_commit_methods() {
  add("commit", Role::kAdmin,
      [this](const json& p, const Caller& c) -> rpc::CallResult { return commit(p, c); });

  add("confirm", Role::kAdmin, [this](const json&, const Caller& c) -> rpc::CallResult {
    if (auto st = engine_->confirm(c.user); !st) {
      return api_error(kCommitFailed, st.error());
    }
    audit_.record("confirm", {{"user", c.user}});
    return json::object();
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

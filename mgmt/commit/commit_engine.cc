#include "mgmt/commit/commit_engine.h"

#include <algorithm>
#include <chrono>

#include "common/fault_point.h"
#include "common/logging.h"
#include "common/yaml_file.h"
#include "config/document.h"
#include "config/sections.h"
#include "config/yaml_json.h"
#include "mgmt/commit/diff.h"

namespace vigil::mgmt::commit {

using nlohmann::json;

int64_t system_unix_clock() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

YAML::Node parse_or_empty(const std::string& text) {
  auto doc = parse_yaml(text, "running");
  return doc ? *doc : YAML::Node(YAML::NodeType::Map);
}

json delta_for(const std::vector<std::string>& sections, const YAML::Node& doc) {
  json delta = json::object();
  for (const auto& s : sections) {
    delta[s] = config::to_json(doc[s]);  // const access: a missing section reads as null
  }
  return delta;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

}  // namespace

Status CommitEngine::push(Component& c, const std::vector<std::string>& sections,
                          const YAML::Node& doc) {
  const uint64_t txid = next_txid_++;
  Status st = c.prepare(txid, delta_for(sections, doc));
  if (st) {
    if (ActivateResult a = c.activate(txid); !a.ok()) {
      st = fail(a.error);
    }
  }
  if (!st) {
    c.abort(txid);
  }
  return st;
}

CommitEngine::CommitEngine(store::ConfigStore& store, std::vector<ComponentPtr> components,
                           UnixClock clock, int64_t confirm_unit_seconds, UnixClock steady)
    : store_(store),
      components_(std::move(components)),
      clock_(std::move(clock)),
      steady_(std::move(steady)),
      confirm_unit_seconds_(confirm_unit_seconds),
      next_txid_(static_cast<uint64_t>(clock_()) * 1000) {
  auto readable = parse_yaml(store_.running_text(), "running");
  const YAML::Node running_doc = readable ? *readable : YAML::Node(YAML::NodeType::Map);
  if (!readable) {
    // Never give components an empty config for one that could not be read (a file edited by
    // hand, or written before today's limits): they keep what they run until a commit.
    running_unreadable_ = readable.error();
    log::error(
        "the running config cannot be read; components keep what they run until a "
        "commit",
        {{"error", running_unreadable_}});
  }
  config::ParseResult r = config::parse_document(running_doc);
  if (r.ok()) {
    running_config_ = std::move(r.config);
  } else {
    log::error("the running config does not pass the schema; fix it with a commit",
               {{"errors", r.errors.to_string()}});
  }
}

Status CommitEngine::apply(uint64_t txid, const std::vector<std::string>& changed,
                           const YAML::Node& old_doc, const YAML::Node& new_doc,
                           CommitOutcome& outcome) {
  struct Affected {
    Component* component;
    std::vector<std::string> sections;
  };
  std::vector<Affected> affected;
  for (const ComponentPtr& c : components_) {
    SectionsAnswer sections = c->sections();
    if (sections.kind == SectionsAnswer::kNotRunning) {
      outcome.not_running.push_back(c->name());
      // It gets this commit when it is seen again, whichever process it is then: one that
      // re-executed itself (vigil-dp restarting on its dataplane section) keeps its pid.
      reach_[c->name()].up = false;
      continue;
    }
    if (sections.kind == SectionsAnswer::kNoAnswer) {
      // Running but silent (stopped, hung): going on without it would leave it on the old
      // config while the store says otherwise.
      return fail(c->name() + " did not answer (" + sections.error + "); nothing was changed");
    }
    Affected a{c.get(), {}};
    for (const auto& s : sections.sections) {
      if (std::find(changed.begin(), changed.end(), s) != changed.end()) {
        a.sections.push_back(s);
      }
    }
    if (!a.sections.empty()) {
      affected.push_back(std::move(a));
    }
  }

  // Phase 1: everyone prepares, or everyone aborts.
  for (size_t i = 0; i < affected.size(); ++i) {
    if (auto st = affected[i].component->prepare(txid, delta_for(affected[i].sections, new_doc));
        !st) {
      for (size_t j = 0; j <= i; ++j) {
        affected[j].component->abort(txid);
      }
      return fail(affected[i].component->name() + " rejected the change: " + st.error());
    }
  }
  // Phase 2: activate. A failure here is rare (prepare validated); undo the ones already
  // activated by giving them back their previous sections, and the failed one too when it did
  // not answer (it may have applied the change; one that refused kept its config).
  for (size_t i = 0; i < affected.size(); ++i) {
    const ActivateResult st = affected[i].component->activate(txid);
    if (!st.ok()) {
      for (size_t j = i; j < affected.size(); ++j) {
        affected[j].component->abort(txid);
      }
      const size_t undo = st.kind == ActivateResult::kNoAnswer ? i + 1 : i;
      std::vector<std::string> restored;
      for (size_t j = 0; j < undo; ++j) {
        Component& c = *affected[j].component;
        if (push(c, affected[j].sections, old_doc)) {
          restored.push_back(c.name());
        } else {
          log::error("could not restore the previous config", {{"component", c.name()}});
        }
      }
      return fail(affected[i].component->name() + " failed to activate: " + st.error +
                  (restored.empty() ? "" : "; previous config restored on " + join(restored)));
    }
    outcome.applied_by.push_back(affected[i].component->name());
    if (st.restarting) {
      outcome.restarting.push_back(affected[i].component->name());
    }
  }
  return Ok{};
}

Status CommitEngine::check_based_on(const CommitRequest& request) const {
  if (!request.based_on || request.force || *request.based_on == store_.running_seq()) {
    return Ok{};
  }
  const uint64_t base = *request.based_on;
  const uint64_t now = store_.running_seq();
  std::string who;
  for (const auto& r : store_.history()) {
    if (r.seq == now) {
      who = " (now commit " + std::to_string(now) + " by " + r.user +
            (r.comment.empty() ? "" : ": \"" + r.comment + "\"") + ")";
    }
  }
  const auto before = store_.text_of(base);
  const std::string underneath =
      before ? commit::unified_diff(config::emit(parse_or_empty(*before)),
                                    config::emit(parse_or_empty(store_.running_text())),
                                    "commit " + std::to_string(base) + " (your candidate's base)",
                                    "running")
             : "(commit " + std::to_string(base) + " is no longer kept)\n";
  return fail(std::string(kStaleCandidate) + "since your candidate was made from commit " +
              std::to_string(base) + who + ". What changed underneath:\n" + underneath +
              "Merge it into your candidate with `vigil update` (it refuses what both of you "
              "changed), or commit your candidate as it is with `vigil commit force`.");
}

Expected<CommitOutcome> CommitEngine::commit(const CommitRequest& request) {
  if (auto st = check_based_on(request); !st) {
    return fail(st.error());
  }
  // Parsed once: validation, the diff and the deltas all use this document.
  auto parsed_doc = parse_yaml(request.text, "candidate");
  if (!parsed_doc) {
    return fail(std::string(kInvalidCandidate) + "1 error(s):\n(document): " + parsed_doc.error() +
                "\n");
  }
  const YAML::Node new_doc = *parsed_doc;
  config::ParseResult parsed = config::parse_document(new_doc);
  if (!parsed.ok()) {
    return fail(std::string(kInvalidCandidate) + std::to_string(parsed.errors.size()) +
                " error(s):\n" + parsed.errors.to_string());
  }
  // Parsed when needed rather than kept: a 4 MiB config is some 260 MB of YAML nodes.
  const YAML::Node old_doc = parse_or_empty(store_.running_text());
  CommitOutcome outcome;
  for (const config::Field& f : config::kDocumentSchema.fields) {
    const std::string key(f.key);
    if (!config::same(old_doc[key], new_doc[key])) {
      outcome.changed_sections.push_back(key);
    }
  }

  const uint64_t previous_seq = store_.running_seq();
  const std::optional<store::PendingConfirm> previous_pending = store_.pending();
  if (request.kind == "commit" && outcome.changed_sections.empty() &&
      config::same(old_doc, new_doc) && previous_seq != 0) {
    if (previous_pending) {
      // A plain commit confirms, as on Junos; `commit confirmed` again extends the deadline
      // (still falling back to the same config). With nothing to change that is all either does.
      if (request.confirm_minutes) {
        store::PendingConfirm p = *previous_pending;
        p.deadline = clock_() + int64_t{*request.confirm_minutes} * confirm_unit_seconds_;
        if (auto st = store_.set_pending(p); !st) {
          return fail("cannot save the confirm deadline: " + st.error());
        }
        outcome.confirm_deadline = p.deadline;
      } else if (auto st = store_.clear_pending(); !st) {
        return fail(st.error());
      } else {
        outcome.confirmed_pending = true;
      }
      for (const auto& r : store_.history()) {
        if (r.seq == previous_seq) {
          outcome.record = r;
        }
      }
      return outcome;
    }
    return fail(std::string(kNothingToCommit) + "your candidate is the running config (commit " +
                std::to_string(previous_seq) + ")");
  }

  const uint64_t txid = next_txid_++;
  std::optional<int64_t> deadline;
  if (request.confirm_minutes) {
    // Written down before anything is activated: whatever happens to vigild from here on, a
    // restart finds the fallback (store::ConfigStore reconciles a commit that never took). A
    // second `commit confirmed` extends the deadline but still falls back to the config
    // before the first one.
    deadline = clock_() + int64_t{*request.confirm_minutes} * confirm_unit_seconds_;
    store::PendingConfirm p{
        .commit_seq = store_.next_seq(),
        .rollback_to_seq = previous_pending ? previous_pending->rollback_to_seq : previous_seq,
        .deadline = *deadline,
        .user = request.user};
    if (auto st = store_.set_pending(p); !st) {
      return fail("cannot save the confirm deadline, so nothing was changed: " + st.error());
    }
    fault_point("commit-confirmed:pending-saved");
  }
  auto restore_pending = [&] {
    (void)(previous_pending ? store_.set_pending(*previous_pending) : store_.clear_pending());
  };
  if (auto st = apply(txid, outcome.changed_sections, old_doc, new_doc, outcome); !st) {
    restore_pending();
    return fail(st.error());
  }
  fault_point("commit:activated");
  auto record = store_.commit(
      request.text, {.user = request.user, .comment = request.comment, .kind = request.kind});
  if (!record) {
    // Components run the new config but it could not be recorded: put the old one back.
    CommitOutcome undo;
    (void)apply(next_txid_++, outcome.changed_sections, new_doc, old_doc, undo);
    restore_pending();
    return fail("cannot record the commit (" + record.error() + "); previous config restored");
  }
  fault_point("commit:recorded");
  outcome.record = *record;
  outcome.confirm_deadline = deadline;
  running_unreadable_.clear();
  {
    std::lock_guard lock(shared_mutex_);
    running_config_ = std::move(parsed.config);
  }
  if (!request.confirm_minutes && previous_pending && request.kind == "commit") {
    // A plain commit confirms, as on Junos.
    (void)store_.clear_pending();
  }
  return outcome;
}

std::vector<std::string> CommitEngine::reconcile() {
  std::vector<std::string> pushed;
  const int64_t now = steady_();
  for (const ComponentPtr& c : components_) {
    Reach& r = reach_[c->name()];
    if (now < r.next_try) {
      continue;  // backing off: a silent component would block vigild's thread every second
    }
    SectionsAnswer sections = c->sections();
    bool up = sections.answered();
    if (sections.kind == SectionsAnswer::kNoAnswer) {
      r.next_try = now + kSilentBackoffSeconds;
      if (r.up) {
        log::warn("a component stopped answering", {{"component", c->name()},
                                                    {"error", sections.error},
                                                    {"next_try_seconds", kSilentBackoffSeconds}});
      }
    } else if (up && (!r.up || sections.instance != r.instance) && !sections.sections.empty()) {
      // Came up, or was restarted since the last question (a new process on the socket).
      if (!running_unreadable_.empty()) {
        log::error("not giving a component the running config: it cannot be read",
                   {{"component", c->name()}, {"error", running_unreadable_}});
      } else if (auto st = push(*c, sections.sections, parse_or_empty(store_.running_text())); st) {
        pushed.push_back(c->name());
        r.failures = 0;
        log::info("gave the running config to a component that came up",
                  {{"component", c->name()}, {"commit", store_.running_seq()}});
      } else {
        up = false;  // try again, later each time
        const int64_t wait = std::min<int64_t>(int64_t{1} << std::min(r.failures, 5), 30);
        ++r.failures;
        r.next_try = now + wait;
        log::error("a component refused the running config; retrying",
                   {{"component", c->name()}, {"error", st.error()}, {"retry_in_seconds", wait}});
      }
    }
    r.up = up;
    if (up) {
      r.instance = sections.instance;
    }
    std::lock_guard lock(shared_mutex_);
    reachable_[c->name()] = up;
  }
  return pushed;
}

Status CommitEngine::confirm(const std::string& user) {
  if (!store_.pending()) {
    return fail(std::string(kNothingToConfirm) + "no commit is waiting for confirmation");
  }
  log::info("commit confirmed", {{"user", user}});
  return store_.clear_pending();
}

std::optional<Expected<CommitOutcome>> CommitEngine::tick() {
  const auto pending = store_.pending();
  if (!pending || clock_() < pending->deadline) {
    return std::nullopt;
  }
  std::string text;
  if (pending->rollback_to_seq != 0) {
    auto t = store_.text_of(pending->rollback_to_seq);
    if (!t) {
      return Expected<CommitOutcome>(fail("cannot roll back: " + t.error()));
    }
    text = *t;
  }
  auto outcome = commit({.text = text,
                         .user = "vigild",
                         .comment = "commit " + std::to_string(pending->commit_seq) + " by " +
                                    pending->user + " was not confirmed in time",
                         .kind = "confirm-timeout"});
  if (outcome) {
    fault_point("rollback:recorded");
    (void)store_.clear_pending();
  }
  return outcome;
}

}  // namespace vigil::mgmt::commit

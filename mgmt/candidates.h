// vigild's candidate configs: each session (the interactive CLI) or user (the one-shot CLI)
// edits a private copy of the running config until it commits or discards it. Plain logic
// over the store, unit-tested without a socket; vigild_service.cc puts methods on top.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "config/document.h"
#include "config/edit.h"
#include "mgmt/store/config_store.h"

namespace vigil::mgmt {

// Only the text is kept: a parsed 4 MiB document is some 260 MB of YAML nodes, and a user may
// hold 8 candidates. Commits parse the text again, on vigild's worker thread.
struct Candidate {
  std::string text;
  bool modified = false;
  // The running config's commit this candidate was made from: a commit since then refuses it
  // until it is updated (merged with what changed) or forced.
  uint64_t base_seq = 0;
};

// A candidate belongs to the user who opened it and to one of that user's sessions (the CLI
// uses one, "cli"; an API client may name others). Nobody else's call reaches it by naming
// the session: the owner is part of the key and comes from the socket's credentials.
struct CandidateKey {
  std::string owner;
  std::string session;
  auto operator<=>(const CandidateKey&) const = default;
};

class Candidates {
 public:
  // What one user may hold open. A candidate holds at most a config document (4 MiB), so
  // these bound vigild's memory whatever unprivileged callers send.
  static constexpr size_t kMaxSessionNameBytes = 64;
  static constexpr size_t kMaxPerUser = 8;
  static constexpr size_t kMaxTotal = 64;
  static constexpr const char* kDefaultSession = "cli";

  explicit Candidates(const store::ConfigStore& store) : store_(store) {}

  // The candidate of `key`: the running config until it is modified, and again once
  // committed or discarded. Fails on a bad session name or when the user (or everyone
  // together) already holds the most modified candidates allowed.
  Expected<Candidate*> of(const CandidateKey& key);
  // For reading only (show, compare, completion): the candidate if it is modified, else the
  // running config, without creating anything or counting against the limits.
  Expected<const Candidate*> view(const CandidateKey& key);
  static Status check_session(const std::string& session);
  // An existing candidate of another user, for an admin's audited look; nullptr if none.
  const Candidate* find(const CandidateKey& key) const;
  Candidate* find(const CandidateKey& key);
  // Forgets candidates that hold nothing but the running config; called after every method,
  // so only modified candidates take memory.
  void release_unmodified();
  size_t size() const { return by_key_.size(); }

  // `load replace|merge`: the text replaces the candidate, or is merged over it key by key.
  // A YAML syntax error changes nothing; schema errors are returned, the text is kept.
  Expected<config::ParseResult> load(Candidate& c, const std::string& text, const std::string& mode,
                                     const std::string& origin);
  // load() in two steps, so the slow one (parsing up to 4 MiB) runs on any thread: what the
  // candidate whose text is `base` becomes, computed from nothing but its arguments ...
  struct Loaded {
    Candidate candidate;
    config::ParseResult check;
    // The result says what the running config says (edited back, or loaded again): the
    // candidate is then unmodified, and follows the running config as if never touched.
    bool same_as_running = false;
  };
  // Sets `loaded.same_as_running` by comparing documents, not text (comments, style and key
  // order aside). Parses both: call it where load's parse runs.
  static void compare_with_running(Loaded& loaded, const std::string& running_text);
  static Expected<Loaded> parse_load(const std::string& base, const std::string& text,
                                     const std::string& mode, const std::string& origin);
  // The same for `set` / `delete`.
  static Expected<Loaded> parse_edit(const std::string& base, const std::vector<std::string>& words,
                                     bool set);
  // `insert PATH before|after OTHER`: the entry PATH names moved next to OTHER in its list.
  static Expected<Loaded> parse_insert(const std::string& base,
                                       const std::vector<std::string>& words, bool before,
                                       const std::string& other);
  // `update`: the candidate `ours` (made from `base`) with what changed from `base` to
  // `running` (commit `running_seq`) merged in; fails starting with kConflict, changing
  // nothing, where both changed the same thing.
  static Expected<Loaded> parse_update(const std::string& base, const std::string& running,
                                       const std::string& ours, uint64_t running_seq);
  static constexpr std::string_view kConflict = "conflict: ";
  // ... and that result put in place (the candidate must still hold `base`).
  static config::ParseResult apply_load(Candidate& c, Loaded loaded);
  // `set` / `delete` along the schema's words; an error changes nothing.
  Expected<config::ParseResult> edit(Candidate& c, const std::vector<std::string>& words, bool set);
  // `rollback N`: committed config N (0 = running) into the candidate. Returns its commit.
  Expected<uint64_t> rollback(Candidate& c, size_t n);
  // What may follow `words` in a `set` of this candidate; with `only_set`, in a `delete` (what
  // the candidate holds there).
  static std::vector<std::string> complete(const Candidate& c,
                                           const std::vector<std::string>& words,
                                           bool only_set = false);
  // The same with types and descriptions, for `?`.
  static std::vector<config::NextWord> describe(const Candidate& c,
                                                const std::vector<std::string>& words,
                                                bool only_set = false);
  // Back to the running config.
  void discard(Candidate& c);

 private:
  const store::ConfigStore& store_;
  std::map<CandidateKey, Candidate> by_key_;
  Candidate running_view_;  // what view() gives for an unmodified candidate
};

}  // namespace vigil::mgmt

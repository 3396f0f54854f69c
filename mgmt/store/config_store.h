// The committed configs on disk: the running config and the last N commits, each with who
// made it, when, why and how (commit, rollback, confirm timeout). Layout under the state
// directory (/var/lib/vigil by default):
//
//   running.yaml          the running config, first line "# vigil-commit <seq> ..."
//   commits/<seq>.json    one commit: {seq, user, time, comment, kind, text}
//   pending-confirm.json  the deadline of an unconfirmed `commit confirmed`, if any
//
// Each file is written atomically. A commit writes its record first and running.yaml last,
// so a crash before the last rename leaves the previous running config in force. A
// `commit confirmed` writes pending-confirm.json before anything is activated; open() squares
// a pending record left by a crash with running.yaml (see reconcile_pending). A file that does
// not parse is never read as defaults: a bad record is an error, a bad pending record is set
// aside and reported, and the running config stays.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "mgmt/store/atomic_file.h"

namespace vigil::mgmt::store {

struct CommitRecord {
  uint64_t seq = 0;
  std::string user;
  int64_t time = 0;  // Unix seconds
  std::string comment;
  std::string kind = "commit";  // commit, rollback, confirm-timeout, initial
};

struct PendingConfirm {
  uint64_t commit_seq = 0;       // the unconfirmed commit
  uint64_t rollback_to_seq = 0;  // what running goes back to if the deadline passes
  int64_t deadline = 0;          // Unix seconds
  std::string user;
};

// Thread-safe, one method at a time: vigild's commits run on a worker thread while its loop
// reads the store for candidates and history.
class ConfigStore {
 public:
  // Opens (creating if needed) the store in `dir`, keeping `keep` commits: the newest ones,
  // and always the running commit and a pending confirm's fallback, however old.
  // Leftover temporary files from a crash are removed.
  static Expected<ConfigStore> open(const std::filesystem::path& dir, size_t keep = 50);

  std::string running_text() const {
    std::lock_guard lock(*mutex_);
    return running_text_;
  }
  uint64_t running_seq() const {
    std::lock_guard lock(*mutex_);
    return running_seq_;
  }
  // Both at once, as one commit left them (a commit may land between two separate reads).
  struct Running {
    std::string text;
    uint64_t seq = 0;
  };
  Running running() const {
    std::lock_guard lock(*mutex_);
    return {.text = running_text_, .seq = running_seq_};
  }

  // Records `text` as a new commit and makes it the running config. `record.seq` and
  // `record.time` (if 0) are filled in.
  Expected<CommitRecord> commit(const std::string& text, CommitRecord record,
                                const BeforeRenameHook& before_running_rename = {});

  // The seq the next commit will get.
  uint64_t next_seq() const {
    std::lock_guard lock(*mutex_);
    return (seqs_.empty() ? 0 : seqs_.back()) + 1;
  }
  // How many commits are kept, without reading them.
  size_t commit_count() const {
    std::lock_guard lock(*mutex_);
    return seqs_.size();
  }
  // Commits, newest first (index 0 is the newest).
  std::vector<CommitRecord> history() const;
  Expected<std::string> text_of(uint64_t seq) const;
  // Junos numbering: rollback 0 is the running config, 1 the commit before it, and so on.
  Expected<uint64_t> seq_of_rollback(size_t n) const;

  Status set_pending(const PendingConfirm& pending);
  // Read from disk once at open; the store is the file's only writer, so this is current.
  std::optional<PendingConfirm> pending() const {
    std::lock_guard lock(*mutex_);
    return pending_;
  }
  Status clear_pending();
  // Why a pending-confirm.json found at open was set aside, or "".
  std::string pending_problem() const {
    std::lock_guard lock(*mutex_);
    return pending_problem_;
  }

  const std::filesystem::path& dir() const { return dir_; }

 private:
  ConfigStore(std::filesystem::path dir, size_t keep) : dir_(std::move(dir)), keep_(keep) {}
  Status load();
  Expected<CommitRecord> read_record(uint64_t seq, std::string* text) const;
  void prune();
  Expected<std::optional<PendingConfirm>> read_pending() const;
  void load_pending();
  void reconcile_pending();

  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();  // movable store
  std::filesystem::path dir_;
  size_t keep_;
  std::string running_text_;
  uint64_t running_seq_ = 0;
  std::vector<uint64_t> seqs_;  // ascending
  // Who, when and why of each commit read so far (history() without re-reading the texts).
  mutable std::map<uint64_t, CommitRecord> records_;
  std::optional<PendingConfirm> pending_;
  std::string pending_problem_;
};

}  // namespace vigil::mgmt::store

#include "mgmt/store/config_store.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/logging.h"

namespace vigil::mgmt::store {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kHeader = "# vigil-commit ";

std::string header_line(const CommitRecord& r) {
  return std::string(kHeader) + std::to_string(r.seq) + " by " + r.user + " (" + r.kind +
         "); do not edit: commit through vigil\n";
}

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Expected<ConfigStore> ConfigStore::open(const fs::path& dir, size_t keep) {
  std::error_code ec;
  fs::create_directories(dir / "commits", ec);
  if (ec) {
    return fail("cannot create " + (dir / "commits").string() + ": " + ec.message());
  }
  ConfigStore store(dir, std::max<size_t>(keep, 1));
  if (auto st = store.load(); !st) {
    return fail(st.error());
  }
  return store;
}

Status ConfigStore::load() {
  for (const fs::path& d : {dir_, dir_ / "commits"}) {
    for (const auto& entry : fs::directory_iterator(d)) {
      if (is_temporary_file(entry.path())) {
        log::warn("removing a temporary file left by a crash", {{"file", entry.path().string()}});
        fs::remove(entry.path());
      }
    }
  }
  seqs_.clear();
  for (const auto& entry : fs::directory_iterator(dir_ / "commits")) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() == ".json" && !stem.empty() &&
        std::all_of(stem.begin(), stem.end(), ::isdigit)) {
      seqs_.push_back(std::stoull(stem));
    }
  }
  std::sort(seqs_.begin(), seqs_.end());

  const fs::path running = dir_ / "running.yaml";
  if (!fs::exists(running)) {
    running_text_.clear();
    running_seq_ = 0;
    load_pending();
    return Ok{};
  }
  auto text = read_file(running);
  if (!text) {
    return fail(text.error());
  }
  running_seq_ = 0;
  if (text->starts_with(kHeader)) {
    running_seq_ = std::strtoull(text->c_str() + kHeader.size(), nullptr, 10);
    text->erase(0, text->find('\n') == std::string::npos ? text->size() : text->find('\n') + 1);
  } else {
    log::warn("running.yaml has no commit header; it was edited by hand",
              {{"file", running.string()}});
  }
  running_text_ = std::move(*text);
  // Records newer than running.yaml were written by a commit that crashed before it took
  // effect: they were never running, so they are not history.
  while (!seqs_.empty() && seqs_.back() > running_seq_ && running_seq_ != 0) {
    fs::remove(dir_ / "commits" / (std::to_string(seqs_.back()) + ".json"));
    seqs_.pop_back();
  }
  load_pending();
  return Ok{};
}

void ConfigStore::load_pending() {
  auto pending = read_pending();
  if (pending) {
    pending_ = *pending;
    reconcile_pending();
    return;
  }
  // Never guess a deadline or a fallback: keep the running config, say so, keep the file.
  pending_.reset();
  pending_problem_ = pending.error();
  const fs::path bad = dir_ / "pending-confirm.json";
  const fs::path aside = dir_ / "pending-confirm.json.unreadable";
  std::error_code ec;
  fs::rename(bad, aside, ec);
  log::error(
      "pending-confirm.json cannot be read; the running config stays and no automatic "
      "rollback will happen: confirm or roll back by hand",
      {{"error", pending_problem_}, {"moved_to", aside.string()}});
}

// A pending confirm is in force only while its commit is the running one. A crash can leave
// the two apart: the commit was written down as pending but never recorded (commit_seq ahead
// of running), or a later commit or the automatic rollback was recorded but the file not yet
// removed (commit_seq behind running).
void ConfigStore::reconcile_pending() {
  if (!pending_ || pending_->commit_seq == running_seq_) {
    return;
  }
  if (pending_->commit_seq < running_seq_ || pending_->rollback_to_seq == running_seq_) {
    log::info("a commit confirmed was resolved before a restart; nothing is pending",
              {{"commit", pending_->commit_seq}, {"running", running_seq_}});
    (void)clear_pending();
    return;
  }
  // An earlier unconfirmed commit is running and the one extending it never took: the
  // earlier one is what stays pending, with the same fallback.
  PendingConfirm p = *pending_;
  p.commit_seq = running_seq_;
  log::info("a commit confirmed did not take before a restart; the one before it is pending",
            {{"commit", p.commit_seq}, {"rollback_to", p.rollback_to_seq}});
  (void)set_pending(p);
}

Expected<CommitRecord> ConfigStore::commit(const std::string& text, CommitRecord record,
                                           const BeforeRenameHook& before_running_rename) {
  std::lock_guard lock(*mutex_);
  record.seq = (seqs_.empty() ? 0 : seqs_.back()) + 1;
  if (record.time == 0) {
    record.time = now_unix();
  }
  const json j = {{"seq", record.seq},         {"user", record.user}, {"time", record.time},
                  {"comment", record.comment}, {"kind", record.kind}, {"text", text}};
  const fs::path record_path = dir_ / "commits" / (std::to_string(record.seq) + ".json");
  if (auto st = write_file_atomically(record_path, j.dump(2) + "\n"); !st) {
    return fail(st.error());
  }
  if (auto st = write_file_atomically(dir_ / "running.yaml", header_line(record) + text,
                                      before_running_rename);
      !st) {
    fs::remove(record_path);
    return fail(st.error());
  }
  seqs_.push_back(record.seq);
  records_[record.seq] = record;
  running_text_ = text;
  running_seq_ = record.seq;
  prune();
  return record;
}

void ConfigStore::prune() {
  // The running commit and the fallback of a pending confirm stay, however old: without the
  // fallback an unconfirmed commit could never be rolled back.
  auto kept = [this](uint64_t seq) {
    return seq == running_seq_ || (pending_ && seq == pending_->rollback_to_seq);
  };
  size_t excess = seqs_.size() > keep_ ? seqs_.size() - keep_ : 0;
  for (auto it = seqs_.begin(); excess > 0 && it != seqs_.end();) {
    if (kept(*it)) {
      ++it;
      continue;
    }
    fs::remove(dir_ / "commits" / (std::to_string(*it) + ".json"));
    records_.erase(*it);
    it = seqs_.erase(it);
    --excess;
  }
}

Expected<CommitRecord> ConfigStore::read_record(uint64_t seq, std::string* text) const {
  const fs::path p = dir_ / "commits" / (std::to_string(seq) + ".json");
  auto content = read_file(p);
  if (!content) {
    return fail(content.error());
  }
  auto parsed = parse_json_bounded(*content);
  if (!parsed || !parsed->is_object() || !parsed->contains("text") ||
      !(*parsed)["text"].is_string() || parsed->value("seq", uint64_t{0}) != seq) {
    return fail(p.string() + " is not a valid commit record" +
                (parsed ? "" : " (" + parsed.error() + ")"));
  }
  const json& j = *parsed;
  if (text != nullptr) {
    *text = j["text"].get<std::string>();
  }
  return CommitRecord{.seq = j.value("seq", uint64_t{0}),
                      .user = j.value("user", ""),
                      .time = j.value("time", int64_t{0}),
                      .comment = j.value("comment", ""),
                      .kind = j.value("kind", "commit")};
}

std::vector<CommitRecord> ConfigStore::history() const {
  std::lock_guard lock(*mutex_);
  std::vector<CommitRecord> out;
  for (auto it = seqs_.rbegin(); it != seqs_.rend(); ++it) {
    // Each record is read once: it holds a whole config (up to 4 MiB of text to parse).
    if (auto known = records_.find(*it); known != records_.end()) {
      out.push_back(known->second);
    } else if (auto r = read_record(*it, nullptr)) {
      records_.emplace(*it, *r);
      out.push_back(*r);
    }
  }
  return out;
}

Expected<std::string> ConfigStore::text_of(uint64_t seq) const {
  std::lock_guard lock(*mutex_);
  std::string text;
  auto r = read_record(seq, &text);
  if (!r) {
    return fail(r.error());
  }
  return text;
}

Expected<uint64_t> ConfigStore::seq_of_rollback(size_t n) const {
  std::lock_guard lock(*mutex_);
  // Newest first, starting from the running commit.
  std::vector<uint64_t> order;
  for (auto it = seqs_.rbegin(); it != seqs_.rend(); ++it) {
    if (*it <= running_seq_ || running_seq_ == 0) {
      order.push_back(*it);
    }
  }
  if (n >= order.size()) {
    return fail("no rollback " + std::to_string(n) + ": " + std::to_string(order.size()) +
                " committed configs are kept (0 to " +
                std::to_string(order.empty() ? 0 : order.size() - 1) + ")");
  }
  return order[n];
}

Status ConfigStore::set_pending(const PendingConfirm& p) {
  std::lock_guard lock(*mutex_);
  const json j = {{"commit_seq", p.commit_seq},
                  {"rollback_to_seq", p.rollback_to_seq},
                  {"deadline", p.deadline},
                  {"user", p.user}};
  if (auto st = write_file_atomically(dir_ / "pending-confirm.json", j.dump(2) + "\n"); !st) {
    return st;
  }
  pending_ = p;
  return Ok{};
}

Expected<std::optional<PendingConfirm>> ConfigStore::read_pending() const {
  const fs::path path = dir_ / "pending-confirm.json";
  if (!fs::exists(path)) {
    return std::optional<PendingConfirm>();
  }
  auto content = read_file(path);
  if (!content) {
    return fail(content.error());
  }
  auto j = parse_json_bounded(*content);
  if (!j) {
    return fail(path.string() + ": " + j.error());
  }
  // Every member present with its type: a missing rollback_to_seq must not mean "empty".
  const bool complete = j->is_object() && (*j)["commit_seq"].is_number_unsigned() &&
                        (*j)["rollback_to_seq"].is_number_unsigned() &&
                        (*j)["deadline"].is_number_integer() && (*j)["user"].is_string();
  if (!complete) {
    return fail(path.string() +
                ": needs commit_seq, rollback_to_seq, deadline and user, with their types");
  }
  return std::optional<PendingConfirm>(
      PendingConfirm{.commit_seq = (*j)["commit_seq"].get<uint64_t>(),
                     .rollback_to_seq = (*j)["rollback_to_seq"].get<uint64_t>(),
                     .deadline = (*j)["deadline"].get<int64_t>(),
                     .user = (*j)["user"].get<std::string>()});
}

Status ConfigStore::clear_pending() {
  std::lock_guard lock(*mutex_);
  if (auto st = remove_file_durably(dir_ / "pending-confirm.json"); !st) {
    return st;
  }
  pending_.reset();
  return Ok{};
}

}  // namespace vigil::mgmt::store

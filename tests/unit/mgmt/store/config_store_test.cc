#include "mgmt/store/config_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vigil::mgmt::store {
namespace {

namespace fs = std::filesystem;

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-store-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ConfigStore open(size_t keep = 50) {
    auto s = ConfigStore::open(dir_, keep);
    EXPECT_TRUE(s.ok()) << s.error();
    return std::move(s).value();
  }

  static CommitRecord by(const std::string& user, const std::string& comment = "") {
    return CommitRecord{.user = user, .comment = comment};
  }

  fs::path dir_;
};

TEST_F(ConfigStoreTest, FreshStoreIsEmpty) {
  ConfigStore s = open();
  EXPECT_EQ(s.running_text(), "");
  EXPECT_EQ(s.running_seq(), 0u);
  EXPECT_TRUE(s.history().empty());
  EXPECT_EQ(s.commit_count(), 0u);
  EXPECT_FALSE(s.pending().has_value());
}

TEST_F(ConfigStoreTest, CommitsPersistAcrossReopen) {
  {
    ConfigStore s = open();
    auto r = s.commit("system: {hostname: a}\n", by("alice", "first"));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->seq, 1u);
    EXPECT_GT(r->time, 0);
    ASSERT_TRUE(s.commit("system: {hostname: b}\n", by("bob", "second")).ok());
  }
  ConfigStore s = open();
  EXPECT_EQ(s.running_text(), "system: {hostname: b}\n");
  EXPECT_EQ(s.running_seq(), 2u);
  auto h = s.history();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].user, "bob");
  EXPECT_EQ(h[0].comment, "second");
  EXPECT_EQ(h[1].seq, 1u);
  EXPECT_EQ(*s.text_of(1), "system: {hostname: a}\n");
  // running.yaml is readable by people and names its commit.
  auto text = read_file(dir_ / "running.yaml");
  EXPECT_TRUE(text->starts_with("# vigil-commit 2 by bob (commit)")) << *text;
  // Every file of the store, the rollback history too, is root's alone (mode 0600): configs
  // name key files and may one day hold more than the box's users should read.
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(entry.status().permissions() & fs::perms::all,
                fs::perms::owner_read | fs::perms::owner_write)
          << entry.path();
    }
  }
}

TEST_F(ConfigStoreTest, RollbackNumberingCountsBackFromRunning) {
  ConfigStore s = open();
  for (const char* h : {"a", "b", "c"}) {
    ASSERT_TRUE(s.commit(std::string("system: {hostname: ") + h + "}\n", by("u")).ok());
  }
  EXPECT_EQ(*s.seq_of_rollback(0), 3u);
  EXPECT_EQ(*s.seq_of_rollback(2), 1u);
  auto none = s.seq_of_rollback(3);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), "no rollback 3: 3 committed configs are kept (0 to 2)");
}

TEST_F(ConfigStoreTest, KeepsOnlyTheNewestCommits) {
  ConfigStore s = open(/*keep=*/5);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(s.commit("n: " + std::to_string(i) + "\n", by("u")).ok());
  }
  auto h = s.history();
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(s.commit_count(), 5u);
  EXPECT_EQ(h.front().seq, 12u);
  EXPECT_EQ(h.back().seq, 8u);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "commits")) {
    ++files;
  }
  EXPECT_EQ(files, 5u);
  EXPECT_EQ(open(5).history().size(), 5u);
}

TEST_F(ConfigStoreTest, KillBetweenWriteAndRenameLeavesTheOldRunningConfig) {
  {
    ConfigStore s = open();
    ASSERT_TRUE(s.commit("system: {hostname: old}\n", by("alice")).ok());
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // In the child: commit, and die the moment the new running file is durable but before
    // it is renamed into place, as a power cut or SIGKILL would.
    auto s = ConfigStore::open(dir_);
    if (s.ok()) {
      (void)s->commit("system: {hostname: new}\n", by("mallory"),
                      [](const fs::path&) { ::_exit(9); });
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 9) << "the child did not reach the rename";

  ConfigStore s = open();
  EXPECT_EQ(s.running_text(), "system: {hostname: old}\n");
  EXPECT_EQ(s.running_seq(), 1u);
  ASSERT_EQ(s.history().size(), 1u) << "a commit that never ran is not history";
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    EXPECT_FALSE(is_temporary_file(e.path())) << e.path();
  }
  // The store carries on normally.
  auto r = s.commit("system: {hostname: next}\n", by("alice"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, 2u);
}

TEST_F(ConfigStoreTest, PendingConfirmPersistsUntilCleared) {
  {
    ConfigStore s = open();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(s.commit("system: {hostname: h" + std::to_string(i) + "}\n", by("alice")).ok());
    }
    ASSERT_TRUE(
        s.set_pending({.commit_seq = 4, .rollback_to_seq = 3, .deadline = 1234, .user = "alice"})
            .ok());
  }
  ConfigStore s = open();
  auto p = s.pending();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->commit_seq, 4u);
  EXPECT_EQ(p->rollback_to_seq, 3u);
  EXPECT_EQ(p->deadline, 1234);
  EXPECT_EQ(p->user, "alice");
  ASSERT_TRUE(s.clear_pending().ok());
  EXPECT_FALSE(open().pending().has_value());
}

// A truncated pending record once meant "roll back to commit 0": an empty config.
TEST_F(ConfigStoreTest, AnUnreadablePendingRecordIsSetAsideAndTheRunningConfigStays) {
  {
    ConfigStore s = open();
    ASSERT_TRUE(s.commit("system: {hostname: one}\n", by("alice")).ok());
    ASSERT_TRUE(s.commit("system: {hostname: two}\n", by("alice")).ok());
    ASSERT_TRUE(
        s.set_pending({.commit_seq = 2, .rollback_to_seq = 1, .deadline = 9, .user = "alice"})
            .ok());
  }
  for (const std::string bad : {"{\"commit_seq\": 2, \"rollb", "{\"commit_seq\": 2}", "[]", ""}) {
    ASSERT_TRUE(write_file_atomically(dir_ / "pending-confirm.json", bad).ok());
    ConfigStore s = open();
    EXPECT_FALSE(s.pending().has_value()) << bad;
    EXPECT_NE(s.pending_problem(), "") << bad;
    EXPECT_EQ(s.running_text(), "system: {hostname: two}\n");
    EXPECT_EQ(s.running_seq(), 2u);
    EXPECT_TRUE(fs::exists(dir_ / "pending-confirm.json.unreadable"));
    EXPECT_FALSE(fs::exists(dir_ / "pending-confirm.json"));
  }
}

TEST_F(ConfigStoreTest, ACommitRecordWithoutItsTextIsAnErrorNotAnEmptyConfig) {
  ConfigStore s = open();
  ASSERT_TRUE(s.commit("system: {hostname: one}\n", by("alice")).ok());
  ASSERT_TRUE(write_file_atomically(dir_ / "commits" / "1.json", "{\"seq\": 1}").ok());
  EXPECT_FALSE(s.text_of(1).ok());
  ASSERT_TRUE(write_file_atomically(dir_ / "commits" / "1.json", "{\"seq\": 1, \"te").ok());
  EXPECT_FALSE(s.text_of(1).ok());
}

// 51 `commit confirmed` in a row used to prune the fallback out of the 50 kept.
TEST_F(ConfigStoreTest, TheFallbackOfAPendingConfirmIsNeverPruned) {
  ConfigStore s = open(/*keep=*/3);
  ASSERT_TRUE(s.commit("system: {hostname: safe}\n", by("alice")).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        s.set_pending(
             {.commit_seq = s.next_seq(), .rollback_to_seq = 1, .deadline = 9, .user = "alice"})
            .ok());
    ASSERT_TRUE(s.commit("system: {hostname: try" + std::to_string(i) + "}\n", by("alice")).ok());
  }
  EXPECT_EQ(s.text_of(1).value(), "system: {hostname: safe}\n");
  EXPECT_EQ(s.commit_count(), 3u) << "the fallback and the two newest";
  ConfigStore reopened = open(3);
  EXPECT_EQ(reopened.text_of(1).value(), "system: {hostname: safe}\n");
  EXPECT_EQ(reopened.pending()->commit_seq, 11u);
}

// Crashes between writing the pending record and recording the commit, or between recording a
// commit and removing the record, leave the two apart; open() squares them.
TEST_F(ConfigStoreTest, APendingRecordLeftByACrashIsSquaredWithTheRunningCommit) {
  {
    ConfigStore s = open();
    ASSERT_TRUE(s.commit("system: {hostname: one}\n", by("alice")).ok());
    ASSERT_TRUE(s.commit("system: {hostname: two}\n", by("alice")).ok());
  }
  struct Case {
    PendingConfirm written;
    std::optional<uint64_t> pending_commit;  // after open; nullopt: nothing pending
  };
  const Case cases[] = {
      // A first commit confirmed that never took: running is its own fallback.
      {{.commit_seq = 3, .rollback_to_seq = 2, .deadline = 9, .user = "a"}, std::nullopt},
      // A second one that never took: the first (running, 2) is still unconfirmed.
      {{.commit_seq = 3, .rollback_to_seq = 1, .deadline = 9, .user = "a"}, 2},
      // Confirmed by a later commit, or rolled back, before the file went.
      {{.commit_seq = 1, .rollback_to_seq = 1, .deadline = 9, .user = "a"}, std::nullopt},
      // In force.
      {{.commit_seq = 2, .rollback_to_seq = 1, .deadline = 9, .user = "a"}, 2},
  };
  for (const Case& c : cases) {
    {
      ConfigStore s = open();
      ASSERT_TRUE(s.set_pending(c.written).ok());
    }
    ConfigStore s = open();
    if (c.pending_commit) {
      ASSERT_TRUE(s.pending().has_value()) << c.written.commit_seq;
      EXPECT_EQ(s.pending()->commit_seq, *c.pending_commit);
      EXPECT_EQ(s.pending()->rollback_to_seq, c.written.rollback_to_seq);
      EXPECT_EQ(open().pending()->commit_seq, *c.pending_commit) << "written back";
    } else {
      EXPECT_FALSE(s.pending().has_value()) << c.written.commit_seq;
      EXPECT_FALSE(fs::exists(dir_ / "pending-confirm.json"));
    }
    (void)s.clear_pending();
  }
}

TEST_F(ConfigStoreTest, HandEditedRunningFileIsStillLoaded) {
  ASSERT_TRUE(write_file_atomically(dir_ / "running.yaml", "system: {hostname: hand}\n").ok());
  ConfigStore s = open();
  EXPECT_EQ(s.running_text(), "system: {hostname: hand}\n");
  EXPECT_EQ(s.running_seq(), 0u);
}

}  // namespace
}  // namespace vigil::mgmt::store

// The commit transaction with fake components and a fake clock.
#include "mgmt/commit/commit_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

namespace vigil::mgmt::commit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Calls {
  std::vector<std::string> log;  // "name:method"
  std::vector<json> deltas;
};

class FakeComponent final : public Component {
 public:
  FakeComponent(std::string name, std::vector<std::string> sections, Calls& calls)
      : name_(std::move(name)), sections_(std::move(sections)), calls_(calls) {}
  const std::string& name() const override { return name_; }
  SectionsAnswer sections() override {
    ++sections_asked;
    if (silent) {
      return {.kind = SectionsAnswer::kNoAnswer, .error = "no answer within 500 ms"};
    }
    if (!running) {
      return {.kind = SectionsAnswer::kNotRunning, .error = "not running"};
    }
    return {.sections = sections_, .instance = instance};
  }
  Status prepare(uint64_t, const json& delta) override {
    calls_.log.push_back(name_ + ":prepare");
    calls_.deltas.push_back(delta);
    return reject_prepare ? Status(fail("no such upstream")) : Status(Ok{});
  }
  ActivateResult activate(uint64_t) override {
    calls_.log.push_back(name_ + ":activate");
    if (on_activate) {
      on_activate();
    }
    if (fail_activate_once) {
      fail_activate_once = false;
      return {.kind = activate_failure, .error = "lost its socket"};
    }
    return {.restarting = restarts};
  }
  void abort(uint64_t) override { calls_.log.push_back(name_ + ":abort"); }

  std::function<void()> on_activate;
  bool running = true;
  bool silent = false;  // there, but does not answer (SIGSTOP)
  int sections_asked = 0;
  int64_t instance = 1;  // the pid answering
  bool reject_prepare = false;
  bool fail_activate_once = false;
  bool restarts = false;  // applies by starting again (vigil-dp's DPDK settings)
  ActivateResult::Kind activate_failure = ActivateResult::kRefused;

 private:
  std::string name_;
  std::vector<std::string> sections_;
  Calls& calls_;
};

constexpr const char* kV1 = "system: {hostname: one}\n";
constexpr const char* kV2 = "system: {hostname: two}\n";
constexpr const char* kV2Routes = "system: {hostname: two}\ninterfaces:\n  wan1: {role: wan}\n";

class CommitEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-commit-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    reopen();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Builds the store and engine afresh, as a vigild restart does.
  void reopen() {
    engine_.reset();
    store_ =
        std::make_unique<store::ConfigStore>(std::move(store::ConfigStore::open(dir_)).value());
    std::vector<ComponentPtr> components;
    auto dp = std::make_unique<FakeComponent>(
        "vigil-dp", std::vector<std::string>{"interfaces", "routing"}, calls_);
    auto l7 =
        std::make_unique<FakeComponent>("vigil-l7", std::vector<std::string>{"system"}, calls_);
    dp_ = dp.get();
    l7_ = l7.get();
    components.push_back(std::move(dp));
    components.push_back(std::move(l7));
    engine_ = std::make_unique<CommitEngine>(
        *store_, std::move(components), [this] { return now_; }, /*unit=*/60,
        /*steady=*/[this] { return now_ + steady_ahead_; });
  }

  Expected<CommitOutcome> commit(const std::string& text, std::optional<int> confirm = {}) {
    return engine_->commit(
        {.text = text, .user = "alice", .comment = "test", .confirm_minutes = confirm});
  }

  fs::path dir_;
  int64_t now_ = 1'000'000;
  int64_t steady_ahead_ = 0;  // how far the steady clock has run ahead of the wall clock
  Calls calls_;
  std::unique_ptr<store::ConfigStore> store_;
  std::unique_ptr<CommitEngine> engine_;
  FakeComponent* dp_ = nullptr;
  FakeComponent* l7_ = nullptr;
};

TEST_F(CommitEngineTest, OnlyComponentsWhoseSectionsChangedTakePart) {
  auto r = commit(kV1);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->changed_sections, std::vector<std::string>{"system"});
  EXPECT_EQ(r->applied_by, std::vector<std::string>{"vigil-l7"});
  EXPECT_EQ(calls_.log, (std::vector<std::string>{"vigil-l7:prepare", "vigil-l7:activate"}));
  EXPECT_EQ(calls_.deltas[0], (json{{"system", {{"hostname", "one"}}}}));
  EXPECT_EQ(store_->running_text(), kV1);
  EXPECT_EQ(r->record.user, "alice");
}

TEST_F(CommitEngineTest, AComponentThatRestartsToApplyIsNamed) {
  dp_->restarts = true;
  auto r = commit(kV2Routes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->restarting, std::vector<std::string>{"vigil-dp"});
  EXPECT_EQ(r->applied_by, (std::vector<std::string>{"vigil-dp", "vigil-l7"}));
  EXPECT_EQ(store_->running_text(), kV2Routes) << "a restart is a change that took";
}

TEST_F(CommitEngineTest, InvalidCandidateTouchesNothing) {
  ASSERT_TRUE(commit(kV1).ok());
  calls_.log.clear();
  auto r = commit("system: {hostname: -bad}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "the candidate has 1 error(s):\nsystem.hostname (1:20): \"-bad\" is not a valid host "
            "name (RFC 1123)\n");
  EXPECT_TRUE(calls_.log.empty());
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, ACandidateMadeBeforeTheLastCommitIsRefusedUnlessForced) {
  ASSERT_TRUE(commit(kV1).ok());
  const uint64_t base = store_->running_seq();
  ASSERT_TRUE(
      engine_->commit({.text = "system: {hostname: bobs}\n", .user = "bob", .comment = "mine"})
          .ok());
  calls_.log.clear();
  auto stale =
      engine_->commit({.text = "system: {hostname: alices}\n", .user = "alice", .based_on = base});
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().starts_with(
      std::string(kStaleCandidate) + "since your candidate was made from commit " +
      std::to_string(base) + " (now commit " + std::to_string(base + 1) + " by bob: \"mine\")"))
      << stale.error();
  EXPECT_NE(stale.error().find("-  hostname: one\n+  hostname: bobs\n"), std::string::npos)
      << "what changed underneath: " << stale.error();
  EXPECT_TRUE(calls_.log.empty());
  EXPECT_EQ(store_->running_text(), "system: {hostname: bobs}\n");
  auto forced = engine_->commit(
      {.text = "system: {hostname: alices}\n", .user = "alice", .based_on = base, .force = true});
  ASSERT_TRUE(forced.ok()) << forced.error();
  auto current = engine_->commit(
      {.text = "system: {hostname: again}\n", .user = "alice", .based_on = store_->running_seq()});
  EXPECT_TRUE(current.ok()) << current.error();
}

TEST_F(CommitEngineTest, RejectedPrepareAbortsEveryoneAndChangesNothing) {
  ASSERT_TRUE(commit(kV1).ok());
  calls_.log.clear();
  l7_->reject_prepare = true;
  auto r = commit(kV2Routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "vigil-l7 rejected the change: no such upstream");
  EXPECT_EQ(calls_.log, (std::vector<std::string>{"vigil-dp:prepare", "vigil-l7:prepare",
                                                  "vigil-dp:abort", "vigil-l7:abort"}));
  EXPECT_EQ(store_->running_text(), kV1);
  EXPECT_EQ(store_->history().size(), 1u);
}

TEST_F(CommitEngineTest, FailedActivateRestoresTheOnesAlreadyActivated) {
  ASSERT_TRUE(commit(kV1).ok());
  calls_.log.clear();
  calls_.deltas.clear();
  l7_->fail_activate_once = true;
  auto r = commit(kV2Routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "vigil-l7 failed to activate: lost its socket; previous config restored on vigil-dp");
  EXPECT_EQ(calls_.log,
            (std::vector<std::string>{"vigil-dp:prepare", "vigil-l7:prepare", "vigil-dp:activate",
                                      "vigil-l7:activate", "vigil-l7:abort", "vigil-dp:prepare",
                                      "vigil-dp:activate"}));
  // The restoring delta is the old content of vigil-dp's sections.
  EXPECT_EQ(calls_.deltas.back(), (json{{"interfaces", nullptr}}));
  EXPECT_EQ(store_->running_text(), kV1);
  EXPECT_EQ(store_->history().size(), 1u) << "a failed commit leaves no rollback entry";
  EXPECT_EQ(engine_->running_config().system.hostname, "one");
}

TEST_F(CommitEngineTest, AnActivateWithoutAnswerAlsoRestoresTheComponentThatGaveNone) {
  ASSERT_TRUE(commit(kV1).ok());
  calls_.log.clear();
  calls_.deltas.clear();
  l7_->fail_activate_once = true;
  l7_->activate_failure = ActivateResult::kNoAnswer;  // timed out: it may have applied it
  auto r = commit(kV2Routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "vigil-l7 failed to activate: lost its socket; previous config restored on "
            "vigil-dp, vigil-l7");
  EXPECT_EQ(calls_.log, (std::vector<std::string>{
                            "vigil-dp:prepare", "vigil-l7:prepare", "vigil-dp:activate",
                            "vigil-l7:activate", "vigil-l7:abort", "vigil-dp:prepare",
                            "vigil-dp:activate", "vigil-l7:prepare", "vigil-l7:activate"}));
  EXPECT_EQ(calls_.deltas.back(), (json{{"system", {{"hostname", "one"}}}}));
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, ComponentThatIsNotRunningIsSkippedAndReported) {
  l7_->running = false;
  auto r = commit(kV1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->not_running, std::vector<std::string>{"vigil-l7"});
  EXPECT_TRUE(r->applied_by.empty());
  EXPECT_EQ(store_->running_text(), kV1);
}

// A SIGSTOPped vigil-dp used to be skipped like a stopped one: the commit went on without it.
TEST_F(CommitEngineTest, AComponentThatDoesNotAnswerFailsTheCommitAndNothingChanges) {
  ASSERT_TRUE(commit(kV1).ok());
  calls_.log.clear();
  dp_->silent = true;
  auto r = commit(kV2Routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "vigil-dp did not answer (no answer within 500 ms); nothing was changed");
  EXPECT_TRUE(calls_.log.empty()) << "nobody prepared";
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, ReconcileBacksOffFromASilentComponent) {
  dp_->silent = true;
  engine_->reconcile();
  EXPECT_EQ(dp_->sections_asked, 1);
  for (int s = 1; s < 5; ++s) {
    now_ += 1;
    engine_->reconcile();
  }
  EXPECT_EQ(dp_->sections_asked, 1) << "not asked again for 5 s";
  EXPECT_EQ(l7_->sections_asked, 5) << "the others still are";
  dp_->silent = false;
  now_ += 1;
  EXPECT_EQ(engine_->reconcile(), std::vector<std::string>{"vigil-dp"});
  EXPECT_TRUE(engine_->reachable().at("vigil-dp"));
}

// vigil-dp re-executing itself keeps its pid: a commit that found it between two images (not
// listening) must still reach it when it is seen again.
TEST_F(CommitEngineTest, AComponentACommitSkippedGetsItWhenSeenAgainUnderTheSamePid) {
  ASSERT_TRUE(commit(kV1).ok());
  engine_->reconcile();
  dp_->running = false;
  auto r = commit(kV2Routes);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->not_running, std::vector<std::string>{"vigil-dp"});
  dp_->running = true;  // the same instance (pid) as before
  calls_.log.clear();
  now_ += 1;
  EXPECT_EQ(engine_->reconcile(), std::vector<std::string>{"vigil-dp"});
  EXPECT_EQ(calls_.deltas.back()["interfaces"]["wan1"]["role"], "wan");
}

TEST_F(CommitEngineTest, AWallClockSetBackDoesNotSilenceReconcile) {
  dp_->silent = true;
  engine_->reconcile();
  dp_->silent = false;
  // Someone sets the clock back an hour; 5 s pass.
  now_ -= 3600;
  steady_ahead_ += 3600 + 5;
  EXPECT_EQ(engine_->reconcile(), std::vector<std::string>{"vigil-dp"});
  EXPECT_EQ(dp_->sections_asked, 2);
}

// kill -9 and a restart within one tick left a vigil-dp that never got its config.
TEST_F(CommitEngineTest, AComponentRestartedBetweenTwoTicksGetsTheConfigAgain) {
  ASSERT_TRUE(commit(kV2Routes).ok());
  engine_->reconcile();
  calls_.log.clear();
  engine_->reconcile();
  EXPECT_TRUE(calls_.log.empty()) << "the same process: nothing to give";
  dp_->instance = 2;  // another process answers on the socket now
  EXPECT_EQ(engine_->reconcile(), std::vector<std::string>{"vigil-dp"});
}

TEST_F(CommitEngineTest, ARunningConfigThatCannotBeReadIsNeverPushedAsAnEmptyOne) {
  ASSERT_TRUE(commit(kV2Routes).ok());
  const std::string deep = "a: " + std::string(100, '[') + std::string(100, ']') + "\n";
  ASSERT_TRUE(
      store::write_file_atomically(dir_ / "running.yaml", "# vigil-commit 1 by x (commit)\n" + deep)
          .ok());
  reopen();
  calls_.log.clear();
  engine_->reconcile();
  EXPECT_TRUE(calls_.log.empty()) << "nothing pushed: " << testing::PrintToString(calls_.log);
  ASSERT_TRUE(commit(kV1).ok()) << "a commit puts it right";
  engine_->reconcile();
}

TEST_F(CommitEngineTest, ReconcileRetriesARefusedPushLaterEachTime) {
  ASSERT_TRUE(commit(kV2Routes).ok());
  reopen();
  dp_->reject_prepare = true;
  std::vector<int64_t> tries;
  for (int s = 0; s < 40; ++s) {
    const size_t before = calls_.log.size();
    engine_->reconcile();
    if (std::count(calls_.log.begin() + static_cast<std::ptrdiff_t>(before), calls_.log.end(),
                   "vigil-dp:prepare") > 0) {
      tries.push_back(s);
    }
    now_ += 1;
  }
  EXPECT_EQ(tries, (std::vector<int64_t>{0, 1, 3, 7, 15, 31}));
}

TEST_F(CommitEngineTest, UnconfirmedCommitRollsBackAtTheDeadline) {
  ASSERT_TRUE(commit(kV1).ok());
  auto r = commit(kV2, /*confirm=*/1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->confirm_deadline, now_ + 60);
  now_ += 59;
  EXPECT_FALSE(engine_->tick().has_value());
  EXPECT_EQ(store_->running_text(), kV2);
  now_ += 1;
  auto rolled = engine_->tick();
  ASSERT_TRUE(rolled.has_value());
  ASSERT_TRUE(rolled->ok()) << rolled->error();
  EXPECT_EQ(store_->running_text(), kV1);
  EXPECT_EQ((*rolled)->record.kind, "confirm-timeout");
  EXPECT_EQ((*rolled)->record.comment, "commit 2 by alice was not confirmed in time");
  EXPECT_FALSE(engine_->pending().has_value());
  EXPECT_FALSE(engine_->tick().has_value());
}

// vigild killed after activating but before writing the deadline left an unconfirmed commit
// for ever; the fallback is now on disk before any component changes.
TEST_F(CommitEngineTest, CommitConfirmedSavesItsFallbackBeforeAnythingIsActivated) {
  ASSERT_TRUE(commit(kV1).ok());
  json seen_on_disk;
  l7_->on_activate = [&] {
    // Read as a restarted vigild would find it (not through a store: opening one squares it).
    seen_on_disk = json::parse(store::read_file(dir_ / "pending-confirm.json").value());
  };
  ASSERT_TRUE(commit(kV2, 1).ok());
  EXPECT_EQ(seen_on_disk["commit_seq"], 2u);
  EXPECT_EQ(seen_on_disk["rollback_to_seq"], 1u);
}

TEST_F(CommitEngineTest, AFailedCommitConfirmedLeavesThePendingStateAsItWas) {
  ASSERT_TRUE(commit(kV1).ok());
  l7_->reject_prepare = true;
  EXPECT_FALSE(commit(kV2, 1).ok());
  EXPECT_FALSE(engine_->pending().has_value());
  EXPECT_FALSE(store::ConfigStore::open(dir_).value().pending().has_value());
  l7_->reject_prepare = false;
  ASSERT_TRUE(commit(kV2, 1).ok());
  l7_->reject_prepare = true;
  EXPECT_FALSE(commit(kV1, 3).ok());
  ASSERT_TRUE(engine_->pending().has_value());
  EXPECT_EQ(engine_->pending()->commit_seq, 2u);
  EXPECT_EQ(engine_->pending()->deadline, now_ + 60) << "the first deadline still holds";
}

TEST_F(CommitEngineTest, FiftyOneCommitConfirmedInARowStillRollBackToTheFirstFallback) {
  ASSERT_TRUE(commit(kV1).ok());
  for (int i = 0; i < 51; ++i) {
    ASSERT_TRUE(commit("system: {hostname: try" + std::to_string(i) + "}\n", 1).ok());
  }
  now_ += 60;
  auto rolled = engine_->tick();
  ASSERT_TRUE(rolled.has_value());
  ASSERT_TRUE(rolled->ok()) << rolled->error();
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, ConfirmKeepsTheCommit) {
  ASSERT_TRUE(commit(kV1).ok());
  ASSERT_TRUE(commit(kV2, 1).ok());
  ASSERT_TRUE(engine_->confirm("alice").ok());
  now_ += 3600;
  EXPECT_FALSE(engine_->tick().has_value());
  EXPECT_EQ(store_->running_text(), kV2);
  EXPECT_EQ(engine_->confirm("alice").error(),
            "nothing to confirm: no commit is waiting for confirmation");
}

TEST_F(CommitEngineTest, PendingConfirmSurvivesARestart) {
  ASSERT_TRUE(commit(kV1).ok());
  ASSERT_TRUE(commit(kV2, 5).ok());
  reopen();  // vigild restarted
  now_ += 5 * 60;
  auto rolled = engine_->tick();
  ASSERT_TRUE(rolled.has_value() && rolled->ok());
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, SecondConfirmedCommitKeepsTheFirstRollbackTarget) {
  ASSERT_TRUE(commit(kV1).ok());
  ASSERT_TRUE(commit(kV2, 1).ok());
  ASSERT_TRUE(commit(kV2Routes, 2).ok());
  EXPECT_EQ(engine_->pending()->rollback_to_seq, 1u);
  now_ += 120;
  ASSERT_TRUE(engine_->tick()->ok());
  EXPECT_EQ(store_->running_text(), kV1);
}

TEST_F(CommitEngineTest, PlainCommitConfirmsAPendingOne) {
  ASSERT_TRUE(commit(kV1).ok());
  ASSERT_TRUE(commit(kV2, 1).ok());
  ASSERT_TRUE(commit(kV2Routes).ok());
  EXPECT_FALSE(engine_->pending().has_value());
}

// An empty commit would push the oldest kept commit out for nothing: refused, nothing applied.
// With a commit confirmed pending, a plain `commit` of the running config only confirms.
TEST_F(CommitEngineTest, ACommitThatChangesNothingIsRefusedOrOnlyConfirms) {
  ASSERT_TRUE(commit(kV1).ok());
  const size_t calls = calls_.log.size();
  auto empty = commit(kV1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "nothing to commit: your candidate is the running config (commit 1)");
  EXPECT_EQ(store_->history().size(), 1u);
  EXPECT_EQ(calls_.log.size(), calls) << "no component asked";
  ASSERT_TRUE(commit(kV2, 1).ok());
  const size_t applied = calls_.log.size();
  // commit confirmed again, nothing changed: the deadline moves, the fallback stays.
  const int64_t first_deadline = engine_->pending()->deadline;
  now_ += 30;
  auto extended = commit(kV2, 2);
  ASSERT_TRUE(extended.ok()) << extended.error();
  EXPECT_EQ(engine_->pending()->deadline, first_deadline + 30 + 60);
  EXPECT_EQ(engine_->pending()->rollback_to_seq, 1u);
  EXPECT_EQ(store_->history().size(), 2u);
  auto confirmed = commit(kV2);
  ASSERT_TRUE(confirmed.ok()) << confirmed.error();
  EXPECT_TRUE(confirmed->confirmed_pending);
  EXPECT_EQ(confirmed->record.seq, 2u);
  EXPECT_FALSE(engine_->pending().has_value());
  EXPECT_EQ(store_->history().size(), 2u);
  EXPECT_EQ(calls_.log.size(), applied) << "confirming applies nothing";
  EXPECT_FALSE(commit(kV2, 1).ok()) << "commit confirmed of the running config: nothing to do";
}

TEST_F(CommitEngineTest, RollbackOfTheFirstCommitGoesBackToAnEmptyConfig) {
  ASSERT_TRUE(commit(kV1, 1).ok());
  now_ += 60;
  ASSERT_TRUE(engine_->tick()->ok());
  EXPECT_EQ(store_->running_text(), "");
}

}  // namespace
}  // namespace vigil::mgmt::commit

// Private candidates over a real store in a temporary directory.
#include "mgmt/candidates.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace vigil::mgmt {
namespace {

namespace fs = std::filesystem;

class CandidatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-candidates-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store_ =
        std::make_unique<store::ConfigStore>(std::move(store::ConfigStore::open(dir_)).value());
    ASSERT_TRUE(store_->commit(kV1, {.user = "alice"}).ok());
    ASSERT_TRUE(store_->commit(kV2, {.user = "alice"}).ok());
    candidates_ = std::make_unique<Candidates>(*store_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static constexpr const char* kV1 = "system: {hostname: one}\n";
  static constexpr const char* kV2 = "system: {hostname: two}\n";
  fs::path dir_;
  std::unique_ptr<store::ConfigStore> store_;
  std::unique_ptr<Candidates> candidates_;

  Candidate& of(const std::string& owner, const std::string& session = "cli") {
    auto c = candidates_->of({.owner = owner, .session = session});
    EXPECT_TRUE(c.ok()) << c.error();
    return **c;
  }
};

TEST_F(CandidatesTest, EachKeyEditsItsOwnCopyOfRunning) {
  Candidate& alice = of("alice");
  EXPECT_EQ(alice.text, kV2);
  auto r = candidates_->edit(alice, {"system", "hostname", "three"}, true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(of("alice").text, "system:\n  hostname: three\n");
  EXPECT_EQ(of("bob").text, kV2) << "bob's candidate is his own";
}

TEST_F(CandidatesTest, AnUnmodifiedCandidateFollowsRunningAndDiscardGoesBack) {
  Candidate& c = of("alice", "s1");
  ASSERT_TRUE(candidates_->load(c, "system: {hostname: x}\n", "replace", "f.yaml").ok());
  EXPECT_TRUE(c.modified);
  candidates_->discard(c);
  EXPECT_EQ(c.text, kV2);
  EXPECT_FALSE(c.modified);
}

TEST_F(CandidatesTest, ACandidateEditedBackToRunningIsUnmodifiedAgain) {
  Candidate& c = of("alice", "s1");
  ASSERT_TRUE(candidates_->edit(c, {"system", "hostname", "three"}, true).ok());
  EXPECT_TRUE(c.modified);
  ASSERT_TRUE(candidates_->edit(c, {"system", "hostname", "two"}, true).ok());
  EXPECT_FALSE(c.modified) << "the same document as running, in another style";
  ASSERT_TRUE(
      candidates_->load(c, "# a comment\nsystem:\n  hostname: two\n", "replace", "f.yaml").ok());
  EXPECT_FALSE(c.modified) << "comments and style are not changes";
  ASSERT_TRUE(candidates_->rollback(c, 0).ok());
  EXPECT_FALSE(c.modified) << "rollback 0 is the running config";
  candidates_->release_unmodified();
  EXPECT_EQ(candidates_->find({.owner = "alice", .session = "s1"}), nullptr);
}

// vigild parses on another thread from a copy of the text, then puts the result in place.
TEST_F(CandidatesTest, ParsingAChangeTouchesNoCandidateUntilItIsApplied) {
  Candidate& c = of("alice", "s1");
  auto edited = Candidates::parse_edit(c.text, {"system", "hostname", "three"}, true);
  ASSERT_TRUE(edited.ok()) << edited.error();
  EXPECT_EQ(c.text, kV2);
  EXPECT_FALSE(c.modified);
  auto merged = Candidates::parse_load(c.text, "system: {hostname: four}\n", "merge", "f.yaml");
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_EQ(c.text, kV2);
  const config::ParseResult check = Candidates::apply_load(c, std::move(*edited));
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(c.text, "system:\n  hostname: three\n");
  EXPECT_TRUE(c.modified);
  EXPECT_FALSE(Candidates::parse_edit("{[", {"system"}, false).ok());
}

TEST_F(CandidatesTest, LoadMergesOrReplacesAndReportsSchemaErrors) {
  Candidate& c = of("alice", "s1");
  auto merged = candidates_->load(c, "interfaces:\n  lan0: {role: dmz}\n", "merge", "f.yaml");
  ASSERT_TRUE(merged.ok());
  EXPECT_FALSE(merged->ok());
  EXPECT_EQ(merged->errors.to_string(),
            "interfaces.lan0.role (5:11): must be lan or wan, got \"dmz\"\n")
      << "positions point into the merged text";
  EXPECT_NE(c.text.find("hostname: two"), std::string::npos) << c.text;
  auto bad_mode = candidates_->load(c, "{}", "append", "f.yaml");
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_EQ(bad_mode.error(), "mode must be replace or merge, got \"append\"");
}

TEST_F(CandidatesTest, MergingOneStaticRouteKeepsTheOthers) {
  // The regression of issue 23: a file with one route replaced the whole list.
  Candidate& c = of("alice", "s1");
  ASSERT_TRUE(candidates_
                  ->load(c,
                         "routing:\n  static:\n"
                         "    - {prefix: 0.0.0.0/0, next_hops: [{via: 192.0.2.1}]}\n"
                         "    - {prefix: 10.9.0.0/16, next_hops: [{via: 192.0.2.9}]}\n",
                         "merge", "base.yaml")
                  .ok());
  auto merged = candidates_->load(
      c,
      "routing:\n  static:\n    - {prefix: 10.8.0.0/16, next_hops: [{via: 192.0.2.8}]}\n"
      "    - {prefix: 10.9.0.0/16, distance: 1, next_hops: [{via: 192.0.2.9, weight: 2}]}\n",
      "merge", "one-route.yaml");
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(merged->ok()) << merged->errors.to_string();
  EXPECT_EQ(c.text,
            "system:\n  hostname: two\nrouting:\n  static:\n"
            "    - prefix: 0.0.0.0/0\n      next_hops:\n        - via: 192.0.2.1\n"
            "    - prefix: 10.9.0.0/16\n      next_hops:\n        - via: 192.0.2.9\n"
            "          weight: 2\n      distance: 1\n"
            "    - prefix: 10.8.0.0/16\n      next_hops:\n        - via: 192.0.2.8\n");
}

TEST_F(CandidatesTest, SetRefusesAValueThatDoesNotFitItsTypeButNotWhatIsStillMissing) {
  Candidate& c = of("alice", "s1");
  const std::string before = c.text;
  ASSERT_TRUE(candidates_->edit(c, {"interfaces", "lan0", "role", "lan"}, true).ok());
  const auto mtu = candidates_->edit(c, {"interfaces", "lan0", "mtu", "abc"}, true);
  ASSERT_FALSE(mtu.ok());
  EXPECT_EQ(mtu.error(), "interfaces.lan0.mtu: expected an integer, got \"abc\"");
  const auto role = candidates_->edit(c, {"interfaces", "lan0", "role", "dmz"}, true);
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(role.error(), "interfaces.lan0.role: must be lan or wan, got \"dmz\"");
  EXPECT_EQ(c.text.find("dmz"), std::string::npos);
  // A route with no next hop yet is incomplete, not wrong: accepted, reported for commit.
  const auto route = candidates_->edit(c, {"routing", "static", "10.9.0.0/16"}, true);
  ASSERT_TRUE(route.ok()) << route.error();
  EXPECT_FALSE(route->ok());
  const auto via =
      candidates_->edit(c, {"routing", "static", "10.9.0.0/16", "next_hops", "x"}, true);
  ASSERT_FALSE(via.ok());
  EXPECT_NE(via.error().find("routing.static[0].next_hops[0].via: "), std::string::npos)
      << via.error();
  // The words naming entries on the way are values of this set too: a bad prefix or distance
  // is refused now, not at commit.
  const auto prefix =
      candidates_->edit(c, {"routing", "static", "10.9.0.0/99", "next_hops", "10.0.0.1"}, true);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.error().find("routing.static[1].prefix: "), std::string::npos) << prefix.error();
  const auto distance = candidates_->edit(
      c, {"routing", "static", "10.8.0.0/16", "distance", "far", "next_hops", "10.0.0.1"}, true);
  ASSERT_FALSE(distance.ok());
  EXPECT_NE(distance.error().find("routing.static[1].distance: "), std::string::npos)
      << distance.error();
}

TEST_F(CandidatesTest, ACandidateRemembersTheCommitItWasMadeFromAndUpdateMovesIt) {
  Candidate& c = of("alice", "s1");
  const uint64_t base = store_->running_seq();
  ASSERT_TRUE(candidates_->edit(c, {"interfaces", "lan0", "role", "lan"}, true).ok());
  EXPECT_EQ(c.base_seq, base);
  // bob commits a new hostname meanwhile.
  ASSERT_TRUE(store_->commit("system: {hostname: bobs}\n", {.user = "bob"}).ok());
  EXPECT_EQ(c.base_seq, base) << "a modified candidate keeps its base";
  auto base_text = store_->text_of(base);
  ASSERT_TRUE(base_text.ok());
  auto updated =
      Candidates::parse_update(*base_text, store_->running_text(), c.text, store_->running_seq());
  ASSERT_TRUE(updated.ok()) << updated.error();
  Candidates::apply_load(c, std::move(*updated));
  EXPECT_EQ(c.base_seq, store_->running_seq());
  EXPECT_EQ(c.text, "system:\n  hostname: bobs\ninterfaces:\n  lan0:\n    role: lan\n");
  // Both change the hostname: update refuses and says where.
  ASSERT_TRUE(candidates_->edit(c, {"system", "hostname", "alices"}, true).ok());
  const uint64_t now = store_->running_seq();
  ASSERT_TRUE(store_->commit("system: {hostname: carols}\n", {.user = "carol"}).ok());
  auto conflict = Candidates::parse_update(*store_->text_of(now), store_->running_text(), c.text,
                                           store_->running_seq());
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().starts_with(Candidates::kConflict)) << conflict.error();
  EXPECT_NE(conflict.error().find("\n  system.hostname\n"), std::string::npos) << conflict.error();
}

TEST_F(CandidatesTest, ABadEditOrBadYamlChangesNothing) {
  Candidate& c = of("alice", "s1");
  const std::string before = c.text;
  EXPECT_FALSE(candidates_->edit(c, {"system", "colour", "red"}, true).ok());
  EXPECT_FALSE(candidates_->load(c, "system: [\n", "replace", "f.yaml").ok());
  EXPECT_EQ(c.text, before);
  EXPECT_FALSE(c.modified);
}

TEST_F(CandidatesTest, RollbackLoadsAnEarlierCommit) {
  Candidate& c = of("alice", "s1");
  auto seq = candidates_->rollback(c, 1);
  ASSERT_TRUE(seq.ok()) << seq.error();
  EXPECT_EQ(*seq, 1u);
  EXPECT_EQ(c.text, kV1);
  EXPECT_TRUE(c.modified);
  EXPECT_FALSE(candidates_->rollback(c, 9).ok());
  EXPECT_EQ(c.text, kV1);
}

TEST_F(CandidatesTest, CompletionComesFromTheCandidate) {
  Candidate& c = of("alice", "s1");
  ASSERT_TRUE(candidates_->edit(c, {"interfaces", "lan0", "role", "lan"}, true).ok());
  const auto next = candidates_->complete(c, {"interfaces"});
  EXPECT_NE(std::find(next.begin(), next.end(), "lan0"), next.end());
}

TEST_F(CandidatesTest, TheSameSessionNameOfAnotherOwnerIsAnotherCandidate) {
  ASSERT_TRUE(candidates_->edit(of("root"), {"system", "hostname", "secret"}, true).ok());
  EXPECT_EQ(of("viewer", "cli").text, kV2) << "naming root's session reaches only your own";
  ASSERT_NE(candidates_->find({.owner = "root", .session = "cli"}), nullptr);
  EXPECT_EQ(candidates_->find({.owner = "root", .session = "cli"})->text,
            "system:\n  hostname: secret\n");
  EXPECT_EQ(candidates_->find({.owner = "root", .session = "other"}), nullptr);
}

// 300 reads with unique 1 MiB session names grew vigild by 300 MB that was never freed.
TEST_F(CandidatesTest, OnlyModifiedCandidatesAreKeptAndEachUserHasALimit) {
  for (int i = 0; i < 300; ++i) {
    of("mallory", "s" + std::to_string(i));
    candidates_->release_unmodified();
  }
  EXPECT_EQ(candidates_->size(), 0u);
  for (size_t i = 0; i < Candidates::kMaxPerUser; ++i) {
    ASSERT_TRUE(
        candidates_->edit(of("mallory", "m" + std::to_string(i)), {"system", "hostname", "x"}, true)
            .ok());
  }
  auto refused = candidates_->of({.owner = "mallory", .session = "one-more"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(),
            "mallory already has 8 open candidates (the limit); commit or discard one");
  EXPECT_TRUE(candidates_->of({.owner = "alice", .session = "cli"}).ok()) << "others unaffected";
  EXPECT_TRUE(candidates_->of({.owner = "mallory", .session = "m0"}).ok()) << "open ones reachable";
}

TEST_F(CandidatesTest, ReadingTakesNoSlotEvenWhenEveryOneIsTaken) {
  for (size_t i = 0; i < Candidates::kMaxPerUser; ++i) {
    ASSERT_TRUE(candidates_
                    ->edit(of("alice", "m" + std::to_string(i)),
                           {"system", "hostname", "x" + std::to_string(i)}, true)
                    .ok());
  }
  auto running = candidates_->view({.owner = "alice", .session = "another"});
  ASSERT_TRUE(running.ok()) << running.error();
  EXPECT_EQ((*running)->text, kV2);
  auto modified = candidates_->view({.owner = "alice", .session = "m3"});
  ASSERT_TRUE(modified.ok());
  EXPECT_EQ((*modified)->text, "system:\n  hostname: x3\n");
  EXPECT_EQ(candidates_->size(), Candidates::kMaxPerUser) << "nothing created";
  EXPECT_FALSE(candidates_->view({.owner = "alice", .session = "a b"}).ok());
}

TEST_F(CandidatesTest, SessionNamesAreShortAndPlain) {
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("a/b"),
                                 std::string(1 << 20, 'x'), std::string("a\nb")}) {
    auto c = candidates_->of({.owner = "alice", .session = bad});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(), "session must be 1 to 64 letters, digits, '-', '_', '.' or ':'");
  }
  EXPECT_TRUE(candidates_->of({.owner = "alice", .session = "user:alice"}).ok());
  EXPECT_EQ(candidates_->size(), 1u);
}

}  // namespace
}  // namespace vigil::mgmt

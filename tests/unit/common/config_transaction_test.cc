// The component side of the two-phase commit: prepare once, activate exactly that, abort and
// a second prepare discard it.
#include "common/config_transaction.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using nlohmann::json;

class ConfigTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tx_.on_prepare([this](const json& delta) -> Expected<PreparedChange> {
      ++parses_;
      if (delta.contains("routing") && delta["routing"] == "bad") {
        return fail("routing: bad");
      }
      return PreparedChange{.activate = [this, delta]() -> Status {
                              if (fail_next_activation_) {
                                return fail("device gone");
                              }
                              applied_.push_back(delta);
                              return Ok{};
                            },
                            .restarts = delta.value("routing", json()) == "new process"};
    });
  }

  ConfigTransaction tx_{"vigil-dp", {"interfaces", "routing"}};
  int parses_ = 0;
  bool fail_next_activation_ = false;
  std::vector<json> applied_;
};

TEST_F(ConfigTransactionTest, ActivateSaysWhenTheChangeRestartsTheComponent) {
  bool restarts = true;
  ASSERT_TRUE(tx_.prepare(8, {{"routing", "r1"}}).ok());
  ASSERT_TRUE(tx_.activate(8, &restarts).ok());
  EXPECT_FALSE(restarts);
  ASSERT_TRUE(tx_.prepare(9, {{"routing", "new process"}}).ok());
  ASSERT_TRUE(tx_.activate(9, &restarts).ok());
  EXPECT_TRUE(restarts);
}

TEST_F(ConfigTransactionTest, ActivateRunsWhatPrepareBuiltWithoutParsingAgain) {
  ASSERT_TRUE(tx_.prepare(7, {{"routing", "r1"}}).ok());
  EXPECT_EQ(parses_, 1);
  EXPECT_TRUE(applied_.empty()) << "prepare applies nothing";
  EXPECT_EQ(tx_.prepared(), 7u);
  ASSERT_TRUE(tx_.activate(7).ok());
  EXPECT_EQ(parses_, 1);
  EXPECT_EQ(applied_, (std::vector<json>{{{"routing", "r1"}}}));
  EXPECT_FALSE(tx_.prepared());
  auto again = tx_.activate(7);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), "nothing prepared for transaction 7");
}

// 300 prepares never activated grew vigil-dp to 2 GB; a forgotten one now lapses.
TEST_F(ConfigTransactionTest, APreparedChangeNeverActivatedExpires) {
  const auto t0 = ConfigTransaction::Clock::now();
  ASSERT_TRUE(tx_.prepare(9, {{"routing", "r1"}}, t0).ok());
  EXPECT_FALSE(tx_.expire(t0 + ConfigTransaction::kPreparedLifetime - std::chrono::seconds(1)));
  EXPECT_EQ(tx_.prepared(), 9u);
  EXPECT_EQ(tx_.expire(t0 + ConfigTransaction::kPreparedLifetime), 9u);
  EXPECT_FALSE(tx_.prepared());
  EXPECT_FALSE(tx_.activate(9).ok());
  EXPECT_TRUE(applied_.empty());
}

TEST_F(ConfigTransactionTest, AFailedActivationIsReportedAndGone) {
  ASSERT_TRUE(tx_.prepare(1, {{"routing", "r1"}}).ok());
  fail_next_activation_ = true;
  auto r = tx_.activate(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "device gone");
  EXPECT_FALSE(tx_.prepared());
}

TEST_F(ConfigTransactionTest, AbortDiscardsThePreparedChange) {
  ASSERT_TRUE(tx_.prepare(1, {{"routing", "r1"}}).ok());
  tx_.abort(2);  // another transaction's abort leaves it
  EXPECT_EQ(tx_.prepared(), 1u);
  tx_.abort(1);
  EXPECT_FALSE(tx_.prepared());
  EXPECT_FALSE(tx_.activate(1).ok());
  EXPECT_TRUE(applied_.empty());
}

TEST_F(ConfigTransactionTest, ASecondPrepareDiscardsTheFirst) {
  ASSERT_TRUE(tx_.prepare(1, {{"routing", "r1"}}).ok());
  ASSERT_TRUE(tx_.prepare(2, {{"routing", "r2"}}).ok());
  auto first = tx_.activate(1);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error(), "nothing prepared for transaction 1");
  EXPECT_EQ(tx_.prepared(), 2u) << "a stale activate leaves the newer one";
  ASSERT_TRUE(tx_.activate(2).ok());
  EXPECT_EQ(applied_, (std::vector<json>{{{"routing", "r2"}}}));
}

TEST_F(ConfigTransactionTest, ARejectedPrepareAlsoDiscardsTheOneBefore) {
  ASSERT_TRUE(tx_.prepare(1, {{"routing", "r1"}}).ok());
  auto r = tx_.prepare(2, {{"routing", "bad"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "routing: bad");
  EXPECT_FALSE(tx_.prepared());
  EXPECT_FALSE(tx_.activate(1).ok());
}

TEST_F(ConfigTransactionTest, SectionsItDoesNotApplyAreRefusedBeforeParsing) {
  auto r = tx_.prepare(1, {{"routing", "r1"}, {"l7", {}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "vigil-dp does not apply the \"l7\" section");
  EXPECT_EQ(parses_, 0);
  auto not_object = tx_.prepare(1, json::array());
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error(), "delta must be an object of sections");
}

TEST(ConfigTransaction, WithoutAHookADeltaPreparesAsNothingToDo) {
  ConfigTransaction tx("vigil-l7", {});
  ASSERT_TRUE(tx.prepare(3, json::object()).ok());
  EXPECT_TRUE(tx.activate(3).ok());
  EXPECT_FALSE(tx.prepare(4, {{"system", {}}}).ok());
}

}  // namespace
}  // namespace vigil

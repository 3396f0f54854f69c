// vigil-dp's commit component with fake parts: one parse at prepare, the parsed config applied
// at activate, and every part put back on the config in force when one fails.
#include "dataplane/config_applier.h"

#include <gtest/gtest.h>

namespace vigil::dp {
namespace {

using nlohmann::json;

class FakeTarget final : public ConfigTarget {
 public:
  FakeTarget(std::string name, std::vector<std::string>& log) : name_(std::move(name)), log_(log) {}
  std::string name() const override { return name_; }
  Status check(const config::Config& c) const override {
    log_.push_back(name_ + ":check " + c.system.hostname);
    return c.system.hostname == refuse ? Status(fail("hostname " + refuse + " refused"))
                                       : Status(Ok{});
  }
  Status apply(const config::Config& c) override {
    log_.push_back(name_ + ":apply " + c.system.hostname);
    if (c.system.hostname == fail_apply) {
      return fail("device gone");
    }
    if (c.system.hostname == fail_restore && restoring) {
      return fail("still gone");
    }
    restoring = true;
    return Ok{};
  }
  bool needs_restart(const config::Config& c) const override {
    return c.system.hostname == restart_for;
  }

  std::string refuse;
  std::string restart_for;
  std::string fail_apply;
  std::string fail_restore;
  bool restoring = false;

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

json system_named(const std::string& name) {
  return {{"system", {{"hostname", name}}}};
}

class ConfigApplierTest : public ::testing::Test {
 protected:
  std::vector<std::string> log_;
  FakeTarget xdp_{"XDP classifier", log_};
  FakeTarget fast_path_{"fast path", log_};
  ConfigApplier applier_{{&xdp_, &fast_path_}};
};

TEST_F(ConfigApplierTest, PrepareParsesAndChecksActivateAppliesInOrder) {
  auto activation = applier_.prepare(system_named("one"));
  ASSERT_TRUE(activation.ok()) << activation.error();
  EXPECT_EQ(log_, (std::vector<std::string>{"XDP classifier:check one", "fast path:check one"}));
  EXPECT_EQ(applier_.applied().system.hostname, "vigil") << "nothing applied at prepare";
  ASSERT_TRUE((*activation)().ok());
  EXPECT_EQ(log_.back(), "fast path:apply one");
  EXPECT_EQ(applier_.applied().system.hostname, "one");
}

TEST_F(ConfigApplierTest, ADeltaGoesOverTheSectionsAppliedBefore) {
  ASSERT_TRUE((*applier_.prepare(
      {{"system", {{"hostname", "one"}}},
       {"interfaces", {{"lan0", {{"role", "lan"}, {"addresses", {"10.1.1.1/24"}}}}}}}))()
                  .ok());
  ASSERT_TRUE((*applier_.prepare(system_named("two")))().ok());
  EXPECT_EQ(applier_.applied().system.hostname, "two");
  ASSERT_EQ(applier_.applied().interfaces.size(), 1u) << "a section left out stays as applied";
  ASSERT_TRUE((*applier_.prepare({{"interfaces", nullptr}}))().ok());
  EXPECT_TRUE(applier_.applied().interfaces.empty()) << "a section sent as null is removed";
  EXPECT_EQ(applier_.applied().system.hostname, "two");
}

TEST_F(ConfigApplierTest, ASchemaErrorOrARefusingPartFailsPrepare) {
  auto bad = applier_.prepare(system_named("-bad"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("system.hostname"), std::string::npos) << bad.error();
  fast_path_.refuse = "two";
  auto refused = applier_.prepare(system_named("two"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), "fast path: hostname two refused");
}

TEST_F(ConfigApplierTest, AFailedPartPutsEveryAppliedPartBackOnTheConfigInForce) {
  ASSERT_TRUE((*applier_.prepare(system_named("one")))().ok());
  log_.clear();
  fast_path_.fail_apply = "two";
  auto activation = applier_.prepare(system_named("two"));
  ASSERT_TRUE(activation.ok());
  auto r = (*activation)();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "fast path: device gone");
  EXPECT_EQ(log_, (std::vector<std::string>{"XDP classifier:check two", "fast path:check two",
                                            "XDP classifier:apply two", "fast path:apply two",
                                            "fast path:apply one", "XDP classifier:apply one"}));
  EXPECT_EQ(applier_.applied().system.hostname, "one") << "recorded only after it took";
  // The next delta goes over what is in force, not over the failed one.
  ASSERT_TRUE((*applier_.prepare({{"routing", nullptr}}))().ok());
  EXPECT_EQ(applier_.applied().system.hostname, "one");
}

TEST_F(ConfigApplierTest, AFailureBeforeAnyConfigTookLeavesThePartsThatTook) {
  fast_path_.fail_apply = "one";
  auto r = (*applier_.prepare(system_named("one")))();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "fast path: device gone");
  // No empty config applied over the classifier: it may hold what the last run pinned.
  EXPECT_EQ(log_, (std::vector<std::string>{"XDP classifier:check one", "fast path:check one",
                                            "XDP classifier:apply one", "fast path:apply one"}));
  EXPECT_EQ(applier_.applied().system.hostname, "vigil") << "not recorded as applied";
  fast_path_.fail_apply.clear();
  ASSERT_TRUE((*applier_.prepare(system_named("one")))().ok()) << "the next push takes";
  EXPECT_EQ(applier_.applied().system.hostname, "one");
}

TEST_F(ConfigApplierTest, APartThatCannotBePutBackIsNamedInTheError) {
  ASSERT_TRUE((*applier_.prepare(system_named("one")))().ok());
  xdp_.fail_apply = "two";
  xdp_.fail_restore = "one";
  auto r = (*applier_.prepare(system_named("two")))();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "XDP classifier: device gone; XDP classifier could not be put back: still gone");
}

TEST_F(ConfigApplierTest, AChangeOnlyANewProcessTakesIsAppliedByRestartingOnIt) {
  ASSERT_TRUE((*applier_.prepare(system_named("one")))().ok());
  fast_path_.restart_for = "two";
  auto refused = applier_.prepare(system_named("two"));
  ASSERT_FALSE(refused.ok()) << "no restart hook: refused at prepare";
  EXPECT_NE(refused.error().find("fast path: this change needs vigil-dp to start again"),
            std::string::npos)
      << refused.error();

  std::vector<json> restarted_on;
  applier_.on_restart([&](const json& sections) -> Status {
    restarted_on.push_back(sections);
    return restarted_on.size() == 1 ? Status(fail("cannot write the file")) : Status(Ok{});
  });
  log_.clear();
  auto activation = applier_.prepare(system_named("two"));
  ASSERT_TRUE(activation.ok()) << activation.error();
  EXPECT_TRUE(activation->restarts) << "activate's answer says so";
  const Status failed = (*activation)();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(applier_.applied().system.hostname, "one") << "a restart that did not start";
  ASSERT_TRUE((*applier_.prepare(system_named("two")))().ok());
  ASSERT_EQ(restarted_on.size(), 2u);
  EXPECT_EQ(restarted_on.back()["system"]["hostname"], "two") << "the whole sections, new";
  EXPECT_EQ(applier_.applied().system.hostname, "two");
  // Until the process is replaced, a later change (vigild putting the old config back when
  // another component failed) goes to the restart too: never in place on the old process.
  auto back = applier_.prepare(system_named("one"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->restarts);
  ASSERT_TRUE((*back)().ok());
  EXPECT_EQ(restarted_on.back()["system"]["hostname"], "one");
  for (const auto& line : log_) {
    EXPECT_EQ(line.find(":apply"), std::string::npos) << "nothing applied in place: " << line;
  }
}

}  // namespace
}  // namespace vigil::dp

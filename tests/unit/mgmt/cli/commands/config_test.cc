// The config commands against a fake vigild: what each asks, what it prints, its exit code.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

class ConfigCommandsTest : public ::testing::Test {
 protected:
  Output run(const std::vector<std::string>& words, bool as_json = false) {
    return dispatch(table_, vigild_, words, as_json);
  }
  CommandTable table_ = build_table();
  FakeVigild vigild_;
};

TEST_F(ConfigCommandsTest, CommitSendsCommentAndConfirmAndSaysWhatChanged) {
  vigild_.answers["commit"] = json{{"commit", {{"seq", 7}}},
                                   {"changed_sections", {"interfaces", "routing"}},
                                   {"not_running", {"vigil-l7"}}};
  auto o = run({"commit", "confirmed", "5", "-m", "move api"});
  EXPECT_EQ(o.exit_code, kExitOk);
  ASSERT_EQ(vigild_.calls.size(), 1u);
  EXPECT_EQ(vigild_.calls[0].method, "commit");
  EXPECT_EQ(vigild_.calls[0].params, (json{{"confirm_minutes", 5}, {"comment", "move api"}}));
  EXPECT_EQ(o.out,
            "commit 7 complete; changed: interfaces routing\n"
            "  vigil-l7 is not running; it gets the config when it starts\n");
  EXPECT_EQ(o.err, "");
}

TEST_F(ConfigCommandsTest, AFailedCommitPrintsVigildsReasonAndExitsAsAComponentFailure) {
  vigild_.answers["commit"] =
      rpc::Error{-32010, "commit failed: vigil-dp failed to activate: XDP classifier: gone"};
  auto o = run({"commit"});
  EXPECT_EQ(o.exit_code, kExitComponent);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "vigil: commit: commit failed: vigil-dp failed to activate: XDP classifier: "
            "gone\n");
}

TEST_F(ConfigCommandsTest, EachKindOfFailureHasItsOwnExitCode) {
  const std::vector<std::pair<int, int>> table = {
      {rpc::kInvalidParams, kExitInvalid},  // a bad value or path
      {-32013, kExitInvalid},               // the candidate does not validate
      {rpc::kPermissionDenied, kExitPermission},
      {-32012, kExitComponent},  // vigil-dp (say) does not answer vigild
      {-32010, kExitComponent},  // a component failed the commit
      {-32014, kExitConflict},   // running changed under the candidate
      {rpc::kServerBusy, kExitBusy},
      {rpc::kNotListening, kExitUnavailable},  // vigild itself is down
      {rpc::kInternalError, kExitFailed},
  };
  for (const auto& [code, exit_code] : table) {
    vigild_.answers["commit"] = rpc::Error{code, "why"};
    EXPECT_EQ(run({"commit"}).exit_code, exit_code) << code;
  }
}

TEST_F(ConfigCommandsTest, CommitConfirmedDefaultsToTenMinutesAndForceIsPassedOn) {
  vigild_.answers["commit"] = json{{"commit", {{"seq", 3}}}};
  run({"commit", "confirmed", "-m", "risky"});
  EXPECT_EQ(vigild_.calls.back().params, (json{{"confirm_minutes", 10}, {"comment", "risky"}}));
  run({"commit", "force", "confirmed", "3"});
  EXPECT_EQ(vigild_.calls.back().params, (json{{"confirm_minutes", 3}, {"force", true}}));
}

TEST_F(ConfigCommandsTest, CommitCheckValidatesTheCandidateAndExits65OnErrors) {
  vigild_.answers["candidate.show"] = json{{"text", "system: {hostname: -x}\n"}};
  vigild_.answers["validate"] =
      json{{"valid", false}, {"errors", {{{"text", "system.hostname (1:19): bad"}}}}};
  auto o = run({"commit", "check"});
  EXPECT_EQ(o.exit_code, kExitInvalid);
  EXPECT_EQ(o.out, "error: system.hostname (1:19): bad\n");
  EXPECT_EQ(vigild_.calls.back().params,
            (json{{"text", "system: {hostname: -x}\n"}, {"origin", "candidate"}}));
  vigild_.answers["validate"] = json{{"valid", true}, {"errors", json::array()}};
  o = run({"commit", "check"});
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(o.out, "configuration check succeeds\n");
}

TEST_F(ConfigCommandsTest, VigildUnreachableExits69) {
  vigild_.answers["commit"] = rpc::Error{rpc::kTransportError, "cannot connect"};
  EXPECT_EQ(run({"commit"}).exit_code, kExitUnavailable);
  vigild_.answers["commit"] = rpc::Error{rpc::kTimeout, "no answer in 60 s"};
  EXPECT_EQ(run({"commit"}).exit_code, kExitUnavailable);
}

TEST_F(ConfigCommandsTest, MalformedArgumentsAreUsageErrorsWithoutACall) {
  const std::vector<std::vector<std::string>> bad = {{"commit", "confirmed", "soon"},
                                                     {"commit", "now"},
                                                     {"rollback"},
                                                     {"rollback", "x"},
                                                     {"load", "append"},
                                                     {"compare", "rollback"},
                                                     {"show", "configuration", "2"},
                                                     {"save"},
                                                     {"validate"},
                                                     {"set"},
                                                     {"insert", "filter", "acl", "a"},
                                                     {"insert", "filter", "acl", "a", "atop", "b"}};
  for (const auto& words : bad) {
    auto o = run(words);
    EXPECT_EQ(o.exit_code, kExitUsage) << words[0];
    EXPECT_TRUE(o.err.starts_with("vigil: ")) << o.err;
  }
  EXPECT_TRUE(vigild_.calls.empty());
  EXPECT_EQ(run({"rollback"}).err, "vigil: usage: rollback N\n");
}

TEST_F(ConfigCommandsTest, LoadSendsTheFileAndListsItsErrors) {
  const std::string path = ::testing::TempDir() + "/vigil-cli-load.yaml";
  std::ofstream(path) << "system: {hostname: -x}\n";
  vigild_.answers["candidate.load"] =
      json{{"valid", false}, {"errors", {{{"text", "system.hostname (1:19): bad"}}}}};
  auto o = run({"load", "merge", path});
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(vigild_.calls[0].params,
            (json{{"text", "system: {hostname: -x}\n"}, {"mode", "merge"}, {"origin", path}}));
  EXPECT_EQ(o.out, "loaded " + path +
                       " into the candidate (merge)\n  error: system.hostname (1:19): bad\n"
                       "the candidate will not commit until these are fixed\n");
  std::remove(path.c_str());
  auto missing = run({"load", "replace", path});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_EQ(missing.err, "vigil: cannot read " + path + ": No such file or directory\n");
}

TEST_F(ConfigCommandsTest, ValidateExitsOneWhenTheFileIsInvalid) {
  const std::string path = ::testing::TempDir() + "/vigil-cli-validate.yaml";
  std::ofstream(path) << "x: 1\n";
  vigild_.answers["validate"] =
      json{{"valid", false}, {"errors", {{{"text", "x (1:1): unknown key \"x\""}}}}};
  auto o = run({"validate", path});
  EXPECT_EQ(o.exit_code, kExitFailed);
  EXPECT_EQ(o.out, path + ": x (1:1): unknown key \"x\"\n");
  std::remove(path.c_str());
}

TEST_F(ConfigCommandsTest, ShowConfigurationOfARollback) {
  vigild_.answers["show.configuration"] = json{{"text", "system: {hostname: a}\n"}};
  auto o = run({"show", "configuration", "rollback", "3"});
  EXPECT_EQ(vigild_.calls[0].params, (json{{"rollback", 3}}));
  EXPECT_EQ(o.out, "system: {hostname: a}\n");
}

TEST_F(ConfigCommandsTest, ConfigureModeShowsTheCandidateAndItsDiff) {
  vigild_.answers["candidate.show"] = json{{"text", "system: {hostname: c}\n"}};
  vigild_.answers["compare"] = json{{"diff", ""}};
  EXPECT_EQ(run_line(table_, vigild_, {"show"}, false, true).out, "system: {hostname: c}\n");
  EXPECT_EQ(run_line(table_, vigild_, {"show", "|", "compare"}, false, true).out,
            "no differences\n");
  // Outside configure mode a bare `show` is not a command.
  EXPECT_EQ(run_line(table_, vigild_, {"show"}, false, false).exit_code, kExitUsage);
}

}  // namespace
}  // namespace vigil::mgmt::cli

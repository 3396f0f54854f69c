// Words to commands: unknown ones, stray arguments, completion.
#include "mgmt/cli/dispatch.h"

#include <gtest/gtest.h>

#include "mgmt/cli/commands/commands.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

TEST(Dispatch, UnknownCommandsListTheOnesStartingAlike) {
  FakeVigild vigild;
  auto o = dispatch(build_table(), vigild, {"show", "verzion"}, false);
  EXPECT_EQ(o.exit_code, kExitUsage);
  EXPECT_TRUE(
      o.err.starts_with("vigil: unknown command \"show verzion\"\n"
                        "Commands starting with \"show\":\n  show version\n"))
      << o.err;
  auto extra = dispatch(build_table(), vigild, {"show", "version", "now"}, false);
  EXPECT_EQ(extra.err, "vigil: unexpected argument \"now\"\n");
  EXPECT_TRUE(vigild.calls.empty());
}

TEST(Dispatch, CompletionOffersTheTablesNextWordsAndAsksVigildForPaths) {
  FakeVigild vigild;
  const auto table = build_table();
  auto next = complete_words(table, vigild, {"show", "system"}, false);
  EXPECT_EQ(next, (std::vector<std::string>{"status", "commit", "processes"}));
  vigild.answers["complete"] = json{"lan0", "wan1"};
  EXPECT_EQ(complete_words(table, vigild, {"set", "interfaces"}, true),
            (std::vector<std::string>{"lan0", "wan1"}));
  EXPECT_EQ(vigild.calls.back().params, (json{{"words", {"interfaces"}}}));
}

TEST(Dispatch, AnAnswerOfTheWrongShapeIsAnErrorNotACrash) {
  FakeVigild vigild;
  vigild.answers["commit"] = json{{"commit", {{"seq", "seven"}}}, {"changed_sections", {1}}};
  auto o = dispatch(build_table(), vigild, {"commit"}, false);
  EXPECT_EQ(o.exit_code, kExitFailed);
  EXPECT_TRUE(o.err.starts_with("vigil: vigild's answer is not what this CLI understands: "))
      << o.err;
  vigild.answers["show.processes"] = json{{"unexpected", "object"}};
  EXPECT_EQ(dispatch(build_table(), vigild, {"show", "system", "processes"}, false).exit_code,
            kExitFailed);
  vigild.answers["show.commits"] = json::object();  // no "commits" member at all: none
  EXPECT_EQ(dispatch(build_table(), vigild, {"show", "system", "commit"}, false).exit_code,
            kExitOk);
}

}  // namespace
}  // namespace vigil::mgmt::cli

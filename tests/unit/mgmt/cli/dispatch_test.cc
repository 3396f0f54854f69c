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

TEST(Dispatch, AQuestionMarkDescribesWhatComesNextAndRunsNothing) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["describe"] = json::array({{{"word", "<value>"},
                                             {"type", "integer 68-9216"},
                                             {"description", "IP MTU (default 1500)"}}});
  auto o = dispatch(table, vigild, {"set", "interfaces", "lan0", "mtu", "?"}, false);
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(o.out, "Possible completions:\n  <value>  integer 68-9216  IP MTU (default 1500)\n");
  ASSERT_EQ(vigild.calls.size(), 1u) << "no set";
  EXPECT_EQ(vigild.calls[0].method, "describe");
  EXPECT_EQ(vigild.calls[0].params, (json{{"words", {"interfaces", "lan0", "mtu"}}}));
  auto show = dispatch(table, vigild, {"show", "system", "?"}, false);
  EXPECT_NE(show.out.find("  commit"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("  processes"), std::string::npos) << show.out;
  auto commit = dispatch(table, vigild, {"commit", "?"}, false);
  EXPECT_NE(commit.out.find("  <Enter>"), std::string::npos) << commit.out;
  EXPECT_NE(commit.out.find("  check"), std::string::npos) << commit.out;
  EXPECT_EQ(vigild.calls.size(), 1u);
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

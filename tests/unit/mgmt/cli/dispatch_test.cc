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
  EXPECT_EQ(vigild.calls[0].params,
            (json{{"words", {"interfaces", "lan0", "mtu"}}, {"only_set", false}}));
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
  EXPECT_EQ(next, (std::vector<std::string>{"status", "commit", "processes", "rollback"}));
  vigild.answers["complete"] = json{"lan0", "wan1"};
  EXPECT_EQ(complete_words(table, vigild, {"set", "interfaces"}, true),
            (std::vector<std::string>{"lan0", "wan1"}));
  EXPECT_EQ(vigild.calls.back().params, (json{{"words", {"interfaces"}}, {"only_set", false}}));
  // delete and configure mode's show complete what the candidate holds; pipes their words.
  (void)complete_words(table, vigild, {"delete", "interfaces"}, true);
  EXPECT_EQ(vigild.calls.back().params, (json{{"words", {"interfaces"}}, {"only_set", true}}));
  (void)complete_words(table, vigild, {"show", "routing"}, true);
  EXPECT_EQ(vigild.calls.back().params, (json{{"words", {"routing"}}, {"only_set", true}}));
  EXPECT_EQ(
      complete_words(table, vigild, {"show", "configuration", "|"}, false),
      (std::vector<std::string>{"compare", "count", "display", "except", "match", "no-more"}));
  EXPECT_EQ(complete_words(table, vigild, {"show", "configuration", "|", "disp"}, false),
            (std::vector<std::string>{"json", "set"}));
  EXPECT_EQ(complete_words(table, vigild, {"run", "sh", "sys"}, true),
            (std::vector<std::string>{"status", "commit", "processes", "rollback"}));
  EXPECT_EQ(complete_words(table, vigild, {"run"}, true), complete_words(table, vigild, {}, false));
  EXPECT_EQ(complete_words(table, vigild, {"run", "show", "system"}, true),
            (std::vector<std::string>{"status", "commit", "processes", "rollback"}));
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

const char* const kRunning =
    "system:\n  hostname: edge1\ninterfaces:\n  lan0:\n    role: lan\n    mtu: 9000\n"
    "routing:\n  static:\n    - prefix: 0.0.0.0/0\n      next_hops:\n        - via: 198.18.1.1\n";

TEST(Dispatch, PipesShapeTheOutputOfConfiguration) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["show.configuration"] = json{{"text", kRunning}, {"seq", 4}};
  auto set =
      dispatch(table, vigild, {"sh", "conf", "|", "display", "set", "|", "match", "static"}, false);
  EXPECT_EQ(set.exit_code, kExitOk) << set.err;
  EXPECT_EQ(set.out, "set routing static 0.0.0.0/0 next_hops 198.18.1.1\n");
  // A path shows that part, still from the top so it loads as it is.
  auto part =
      dispatch(table, vigild, {"show", "configuration", "interfaces", "lan0", "mtu"}, false);
  EXPECT_EQ(part.out, "interfaces:\n  lan0:\n    mtu: 9000\n");
  EXPECT_EQ(dispatch(table, vigild, {"show", "configuration", "interfaces", "wan9"}, false).out,
            "");
  auto typo = dispatch(table, vigild, {"show", "configuration", "interfaec"}, false);
  EXPECT_EQ(typo.exit_code, kExitUsage);
  EXPECT_NE(typo.err.find("one of: system, interfaces"), std::string::npos) << typo.err;
  // Structured with --json or | display json, the same either way.
  auto structured = dispatch(table, vigild, {"show", "configuration", "system"}, true);
  EXPECT_EQ(json::parse(structured.out),
            (json{{"seq", 4}, {"config", {{"system", {{"hostname", "edge1"}}}}}}));
  EXPECT_EQ(
      dispatch(table, vigild, {"show", "configuration", "system", "|", "display", "json"}, false)
          .out,
      structured.out);
  vigild.answers["compare"] = json{{"diff", "+x\n"}};
  EXPECT_EQ(dispatch(table, vigild, {"compare", "|", "display", "set"}, false).exit_code,
            kExitUsage);
  EXPECT_EQ(dispatch(table, vigild, {"show", "configuration", "|", "count"}, false).out,
            "Count: 11 lines\n");
}

TEST(Dispatch, CompareAfterAPipeShowsTheDifferencesOfTheRightPair) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["compare"] = json{{"diff", "+x\n"}};
  // Operational: what the last commit changed (rollback 1 against running).
  EXPECT_EQ(dispatch(table, vigild, {"show", "configuration", "|", "compare"}, false).out, "+x\n");
  EXPECT_EQ(vigild.calls.back().params, (json{{"rollback", 1}, {"to", 0}}));
  (void)dispatch(table, vigild, {"show", "configuration", "|", "compare", "rollback", "3"}, false);
  EXPECT_EQ(vigild.calls.back().params, (json{{"rollback", 3}, {"to", 0}}));
  (void)dispatch(table, vigild, {"show", "system", "rollback", "2", "compare", "1"}, false);
  EXPECT_EQ(vigild.calls.back().params, (json{{"rollback", 2}, {"to", 1}}));
  // Configure mode: the candidate against running or rollback N.
  (void)run_line(table, vigild, {"show", "|", "compare", "rollback", "2"}, false, true);
  EXPECT_EQ(vigild.calls.back().params, (json{{"rollback", 2}}));
  EXPECT_EQ(dispatch(table, vigild, {"show", "version", "|", "compare"}, false).exit_code,
            kExitUsage);
}

TEST(Dispatch, ConfigureModeShowTakesAPathIntoTheCandidate) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["candidate.show"] = json{{"text", kRunning}, {"modified", true}};
  auto o = run_line(table, vigild, {"show", "system"}, false, true);
  EXPECT_EQ(o.out, "system:\n  hostname: edge1\n");
  auto set = run_line(table, vigild, {"show", "interfaces", "|", "display", "set"}, false, true);
  EXPECT_EQ(set.out, "set interfaces lan0 role lan\nset interfaces lan0 mtu 9000\n");
  EXPECT_EQ(vigild.calls.back().method, "candidate.show");
}

TEST(Dispatch, AnEmptyConfigureModeShowPointsAtTheOperationalCommand) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["candidate.show"] = json{{"text", "system: {hostname: edge1}\n"}};
  auto o = run_line(table, vigild, {"show", "interfaces"}, false, true);
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "vigil: nothing is set under interfaces in your candidate; the operational command: "
            "run show interfaces\n");
  o = run_line(table, vigild, {"show", "routing"}, false, true);
  EXPECT_EQ(o.err, "vigil: nothing is set under routing in your candidate\n");
}

TEST(Dispatch, JsonErrorsSayCodeKindMessageAndPath) {
  FakeVigild vigild;
  const auto table = build_table();
  vigild.answers["candidate.set"] =
      rpc::Error{rpc::kInvalidParams, "interfaces.lan0.mtu: must be an integer 68-9216"};
  auto o = dispatch(table, vigild, {"set", "interfaces", "lan0", "mtu", "abc"}, true);
  EXPECT_EQ(o.exit_code, kExitInvalid);
  EXPECT_TRUE(o.err.empty());
  EXPECT_EQ(json::parse(o.out),
            (json{{"error",
                   {{"code", kExitInvalid},
                    {"kind", "invalid"},
                    {"message", "set: interfaces.lan0.mtu: must be an integer 68-9216"},
                    {"path", "interfaces lan0 mtu abc"},
                    {"rpc_code", rpc::kInvalidParams}}}}));
  auto usage = dispatch(table, vigild, {"show", "verzion"}, true);
  EXPECT_EQ(usage.exit_code, kExitUsage);
  EXPECT_EQ(json::parse(usage.out)["error"]["kind"], "usage");
  EXPECT_EQ(json::parse(usage.out)["error"]["rpc_code"], nullptr);
  // Any bytes typed stay JSON (found by the CLI fuzz target: invalid UTF-8 threw).
  auto bytes = dispatch(table, vigild, {"set", "system", "hostname", "\xff\xfe"}, true);
  EXPECT_TRUE(json::accept(bytes.out)) << bytes.out;
  auto piped = dispatch(table, vigild, {"show", "version", "|", "grep"}, true);
  EXPECT_EQ(json::parse(piped.out)["error"]["code"], kExitUsage);
  // Success in JSON too, for commands that used to print only prose.
  vigild.answers["candidate.set"] = json{{"errors", json::array()}};
  EXPECT_EQ(json::parse(dispatch(table, vigild, {"set", "system", "hostname", "x"}, true).out),
            (json{{"errors", json::array()}}));
}

}  // namespace
}  // namespace vigil::mgmt::cli

// Output modifiers: how `| ...` is read (a table), and what each stage makes of an Output.
#include "mgmt/cli/pipes.h"

#include <gtest/gtest.h>

namespace vigil::mgmt::cli {
namespace {

using Words = std::vector<std::string>;

struct Case {
  Words words;
  Words command;
  std::vector<PipeKind> kinds;
  Words args;
};

TEST(Pipes, ParseTheCommandAndEachStageWithAbbreviations) {
  const std::vector<Case> cases = {
      {{"show", "configuration"}, {"show", "configuration"}, {}, {}},
      {{"show", "configuration", "|", "display", "set"},
       {"show", "configuration"},
       {PipeKind::kDisplaySet},
       {""}},
      {{"show", "|", "disp", "j"}, {"show"}, {PipeKind::kDisplayJson}, {""}},
      {{"show", "routes", "|", "m", "10\\.9", "|", "count"},
       {"show", "routes"},
       {PipeKind::kMatch, PipeKind::kCount},
       {"10\\.9", ""}},
      {{"show", "|", "except", "mtu", "|", "no-more"},
       {"show"},
       {PipeKind::kExcept, PipeKind::kNoMore},
       {"mtu", ""}},
      {{"show", "|", "compare"}, {"show"}, {PipeKind::kCompare}, {""}},
      {{"show", "configuration", "|", "compare", "rollback", "3", "|", "match", "static"},
       {"show", "configuration"},
       {PipeKind::kCompare, PipeKind::kMatch},
       {"3", "static"}},
  };
  for (const auto& c : cases) {
    auto parsed = parse_pipeline(c.words);
    ASSERT_TRUE(std::holds_alternative<Pipeline>(parsed)) << c.words.size();
    const auto& p = std::get<Pipeline>(parsed);
    EXPECT_EQ(p.command, c.command);
    ASSERT_EQ(p.stages.size(), c.kinds.size());
    for (size_t i = 0; i < c.kinds.size(); ++i) {
      EXPECT_EQ(p.stages[i].kind, c.kinds[i]);
      EXPECT_EQ(p.stages[i].arg, c.args[i]);
    }
  }
}

TEST(Pipes, RefuseWhatTheyDoNotUnderstandAsUsageErrors) {
  const std::vector<Words> bad = {
      {"show", "|"},
      {"show", "|", "grep", "x"},
      {"show", "|", "display"},
      {"show", "|", "display", "xml"},
      {"show", "|", "match"},
      {"show", "|", "match", "a", "b"},
      {"show", "|", "count", "lines"},
      {"show", "|", "c"},  // compare or count
      {"show", "|", "compare", "rollback"},
      {"show", "|", "compare", "rollback", "x"},
      {"show", "|", "count", "|", "compare"},
      {"|", "count"},
  };
  for (const auto& words : bad) {
    auto parsed = parse_pipeline(words);
    ASSERT_TRUE(std::holds_alternative<Output>(parsed)) << words.back();
    EXPECT_EQ(std::get<Output>(parsed).exit_code, kExitUsage);
    EXPECT_TRUE(std::get<Output>(parsed).err.starts_with("vigil: usage: "));
  }
}

TEST(Pipes, StagesFilterCountAndTurnConfigIntoSetLines) {
  const Output config{.out =
                          "system:\n  hostname: edge1\n  description: \"a b\"\n"
                          "interfaces:\n  lan0:\n    mtu: 9000\n",
                      .is_config = true};
  auto set = apply_stages(config, {{PipeKind::kDisplaySet, ""}});
  EXPECT_EQ(set.out,
            "set system hostname edge1\nset system description 'a b'\n"
            "set interfaces lan0 mtu 9000\n");
  auto matched =
      apply_stages(config, {{PipeKind::kDisplaySet, ""}, {PipeKind::kMatch, "^set sys"}});
  EXPECT_EQ(matched.out, "set system hostname edge1\nset system description 'a b'\n");
  auto except = apply_stages(config, {{PipeKind::kExcept, "mtu|host"}, {PipeKind::kCount, ""}});
  EXPECT_EQ(except.out, "Count: 4 lines\n");
  EXPECT_TRUE(apply_stages(config, {{PipeKind::kNoMore, ""}}).no_more);
  // display set is for configuration; a bad pattern says why; a failure passes unchanged.
  const Output text{.out = "a\nb\n"};
  EXPECT_EQ(apply_stages(text, {{PipeKind::kDisplaySet, ""}}).exit_code, kExitUsage);
  auto bad = apply_stages(text, {{PipeKind::kMatch, "(unclosed"}});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_NE(bad.err.find("bad pattern"), std::string::npos) << bad.err;
  const Output failed = failure("no");
  EXPECT_EQ(apply_stages(failed, {{PipeKind::kCount, ""}}).err, failed.err);
  // No trailing newline: the last line still counts and matches.
  EXPECT_EQ(apply_stages(Output{.out = "x\ny"}, {{PipeKind::kMatch, "y"}}).out, "y\n");
}

TEST(Pipes, CompleteTheirWords) {
  EXPECT_EQ(pipe_words({}), (Words{"compare", "count", "display", "except", "match", "no-more"}));
  EXPECT_EQ(pipe_words({"display"}), (Words{"json", "set"}));
  EXPECT_EQ(pipe_words({"comp"}), (Words{"rollback"}));
  EXPECT_TRUE(pipe_words({"match"}).empty());
}

}  // namespace
}  // namespace vigil::mgmt::cli

#include "mgmt/cli/command_table.h"

#include <gtest/gtest.h>

namespace vigil::mgmt::cli {
namespace {

CommandTable table() {
  CommandTable t;
  t.add({.words = {"show", "version"}, .help = "versions"});
  t.add({.words = {"show", "system"}, .help = "system"});
  t.add({.words = {"show", "system", "status"}, .help = "status"});
  t.add({.words = {"commit"}, .args_hint = "[comment]", .help = "apply the candidate"});
  return t;
}

TEST(CommandTable, LongestPrefixWins) {
  auto t = table();
  auto m = t.match({"show", "system", "status"});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->command->help, "status");
  EXPECT_TRUE(m->rest.empty());
  m = t.match({"show", "system"});
  EXPECT_EQ(m->command->help, "system");
}

TEST(CommandTable, UniqueAbbreviationsOfCommandWordsAreSpelledOut) {
  auto t = table();
  t.add({.words = {"set"}, .args_hint = "PATH", .help = "set"});
  using Words = std::vector<std::string>;
  EXPECT_EQ(t.expand({"sh", "sys", "st"}), (Words{"show", "system", "status"}));
  EXPECT_EQ(t.expand({"sh", "v"}), (Words{"show", "version"}));
  EXPECT_EQ(t.expand({"s", "v"}), (Words{"s", "v"})) << "s: show or set";
  EXPECT_EQ(t.expand({"com", "sh"}), (Words{"commit", "sh"})) << "arguments stay as typed";
  EXPECT_EQ(t.expand({"set", "sys"}), (Words{"set", "sys"}));
  EXPECT_EQ(t.expand({"show", "system"}), (Words{"show", "system"})) << "exact beats longer";
}

TEST(CommandTable, RemainingWordsAreArguments) {
  auto t = table();
  auto m = t.match({"commit", "move", "api"});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rest, (std::vector<std::string>{"move", "api"}));
}

TEST(CommandTable, UnknownCommandDoesNotMatch) {
  auto t = table();
  EXPECT_FALSE(t.match({"reboot"}).has_value());
  EXPECT_FALSE(t.match({"show"}).has_value());
  EXPECT_FALSE(t.match({}).has_value());
}

TEST(CommandTable, CompletesPartialLastWord) {
  auto t = table();
  auto c = t.completions({"show", "sys"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0]->help, "system");
  EXPECT_EQ(t.completions({"sh"}).size(), 3u);
  EXPECT_TRUE(t.completions({"show", "x"}).empty());
}

TEST(CommandTable, HelpListsEveryCommandAligned) {
  EXPECT_EQ(table().help(),
            "  show version        versions\n"
            "  show system         system\n"
            "  show system status  status\n"
            "  commit [comment]    apply the candidate\n");
}

}  // namespace
}  // namespace vigil::mgmt::cli

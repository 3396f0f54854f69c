// Command lines into words, as a POSIX shell splits them (no expansions), table-driven.
#include "mgmt/cli/words.h"

#include <gtest/gtest.h>

namespace vigil::mgmt::cli {
namespace {

using Words = std::vector<std::string>;

struct Case {
  const char* line;
  Words words;
  bool unterminated = false;
};

TEST(SplitWords, SplitsAsAShellWouldWithoutExpanding) {
  for (const Case& c : std::vector<Case>{
           {"show routes", {"show", "routes"}},
           {"  set\tsystem  hostname edge1 ", {"set", "system", "hostname", "edge1"}},
           {"commit -m \"two words\"", {"commit", "-m", "two words"}},
           {"commit -m 'it said \"no\"'", {"commit", "-m", "it said \"no\""}},
           {"commit -m \"a \\\"quoted\\\" \\\\ word\"", {"commit", "-m", "a \"quoted\" \\ word"}},
           {"commit -m \"\\n stays\"", {"commit", "-m", "\\n stays"}},
           {"commit -m two\\ words", {"commit", "-m", "two words"}},
           {"set x \"\"", {"set", "x", ""}},
           {"set x ''", {"set", "x", ""}},
           {"a'b'\"c\"d", {"abcd"}},
           {"echo $HOME `id` $(id)", {"echo", "$HOME", "`id`", "$(id)"}},
           {"", {}},
           {"commit -m \"open", {"commit", "-m", "open"}, true},
           {"commit -m 'open", {"commit", "-m", "open"}, true},
           {"trailing \\", {"trailing", ""}, true},
       }) {
    SCOPED_TRACE(c.line);
    const SplitLine s = split_words(c.line);
    EXPECT_EQ(s.words, c.words);
    EXPECT_EQ(s.unterminated, c.unterminated);
  }
}

TEST(SplitWords, RefusesALineOverItsBound) {
  const SplitLine s = split_words(std::string(kMaxLineBytes + 1, 'a'));
  EXPECT_TRUE(s.unterminated);
  EXPECT_TRUE(s.words.empty());
}

TEST(QuoteWord, GivesBackWhatSplitWordsReadsAsTheSameWord) {
  EXPECT_EQ(quote_word("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(quote_word("fe80::1"), "fe80::1");
  EXPECT_EQ(quote_word("two words"), "'two words'");
  EXPECT_EQ(quote_word(""), "''");
  EXPECT_EQ(quote_word("|"), "'|'");
  for (const std::string w : {"it's", "a\\b", "\"q\"", "$HOME", "tab\there", "x'y'z", "#", "?"}) {
    const SplitLine back = split_words("set system description " + quote_word(w));
    ASSERT_EQ(back.words.size(), 4u) << w;
    EXPECT_EQ(back.words[3], w);
    EXPECT_FALSE(back.unterminated);
  }
}

}  // namespace
}  // namespace vigil::mgmt::cli

// A command line into words, as the interactive CLI and the login-shell path (`vigil -c
// '...'`, which sshd runs with what the user typed after `ssh host`) split it: the way a POSIX
// shell splits words, without any of its expansions. 'Single quotes' keep everything inside;
// "double quotes" keep everything but a backslash before " \ $ or `; outside quotes a
// backslash keeps the next character as it is. So `commit -m "two words"` is three words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::mgmt::cli {

struct SplitLine {
  std::vector<std::string> words;
  // The line ended inside quotes (or after a lone backslash): an error for a command, the
  // word being typed for completion.
  bool unterminated = false;
};

// A command line longer than this is refused (and its words not made): the CLI's own bound.
inline constexpr size_t kMaxLineBytes = size_t{64} * 1024;

SplitLine split_words(std::string_view line);

// `words` joined by single spaces, as messages and help show them (not quoted: for people).
std::string join_words(const std::vector<std::string>& words);

// `word` as a command line must spell it for split_words() to give it back: as it is when
// nothing in it is special, else in single quotes ('it'\''s' for a quote inside).
std::string quote_word(std::string_view word);

}  // namespace vigil::mgmt::cli

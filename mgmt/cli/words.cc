#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) {
      out += ' ';
    }
    out += w;
  }
  return out;
}

SplitLine split_words(std::string_view line) {
  SplitLine out;
  if (line.size() > kMaxLineBytes) {
    out.unterminated = true;
    return out;
  }
  enum class Quote { kNone, kSingle, kDouble } quote = Quote::kNone;
  std::string word;
  bool in_word = false;  // "" is a word too
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    switch (quote) {
      case Quote::kSingle:
        if (c == '\'') {
          quote = Quote::kNone;
        } else {
          word += c;
        }
        continue;
      case Quote::kDouble:
        if (c == '"') {
          quote = Quote::kNone;
        } else if (c == '\\' && i + 1 < line.size() &&
                   (line[i + 1] == '"' || line[i + 1] == '\\' || line[i + 1] == '$' ||
                    line[i + 1] == '`')) {
          word += line[++i];
        } else {
          word += c;
        }
        continue;
      case Quote::kNone:
        break;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        out.words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
    } else if (c == '\'') {
      quote = Quote::kSingle;
      in_word = true;
    } else if (c == '"') {
      quote = Quote::kDouble;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 == line.size()) {
        out.unterminated = true;
      } else {
        word += line[++i];
      }
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != Quote::kNone) {
    out.unterminated = true;
  }
  if (in_word) {
    out.words.push_back(std::move(word));
  }
  return out;
}

std::string quote_word(std::string_view word) {
  const bool plain =
      !word.empty() && word.find_first_of(" \t\n'\"\\|;&$`<>()*?#~!{}[]") == std::string_view::npos;
  if (plain) {
    return std::string(word);
  }
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace vigil::mgmt::cli

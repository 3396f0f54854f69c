#include "mgmt/cli/command_table.h"

#include <algorithm>

#include "mgmt/cli/table_printer.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {

void CommandTable::add(Command command) {
  commands_.push_back(std::move(command));
}

std::optional<Match> CommandTable::match(const std::vector<std::string>& words) const {
  const Command* best = nullptr;
  for (const Command& c : commands_) {
    if (c.words.size() <= words.size() &&
        std::equal(c.words.begin(), c.words.end(), words.begin()) &&
        (best == nullptr || c.words.size() > best->words.size())) {
      best = &c;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return Match{best, std::vector<std::string>(words.begin() + static_cast<long>(best->words.size()),
                                              words.end())};
}

std::vector<std::string> CommandTable::expand(const std::vector<std::string>& words) const {
  std::vector<std::string> out = words;
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<std::string> spelled;  // the distinct command words at i this one may stand for
    bool exact = false;
    for (const Command& c : commands_) {
      if (c.words.size() <= i ||
          !std::equal(out.begin(), out.begin() + static_cast<long>(i), c.words.begin())) {
        continue;
      }
      exact = exact || c.words[i] == out[i];
      if (c.words[i].starts_with(out[i]) &&
          std::find(spelled.begin(), spelled.end(), c.words[i]) == spelled.end()) {
        spelled.push_back(c.words[i]);
      }
    }
    if (exact) {
      continue;
    }
    if (spelled.size() != 1) {
      break;  // an argument, or ambiguous: left for match() to report
    }
    out[i] = spelled[0];
  }
  return out;
}

std::vector<const Command*> CommandTable::completions(
    const std::vector<std::string>& prefix) const {
  std::vector<const Command*> out;
  for (const Command& c : commands_) {
    bool ok = prefix.size() <= c.words.size();
    for (size_t i = 0; ok && i < prefix.size(); ++i) {
      // The last word typed may be partial.
      ok = i + 1 == prefix.size() ? c.words[i].starts_with(prefix[i]) : c.words[i] == prefix[i];
    }
    if (ok) {
      out.push_back(&c);
    }
  }
  return out;
}

std::string CommandTable::help() const {
  TablePrinter table({"command", "description"}, /*header=*/false);
  for (const Command& c : commands_) {
    std::string words = join_words(c.words);
    if (!c.args_hint.empty()) {
      words += " " + c.args_hint;
    }
    table.add_row({"  " + words, c.help});
  }
  return table.render();
}

}  // namespace vigil::mgmt::cli

#include "mgmt/cli/command_table.h"

#include <algorithm>

#include "mgmt/cli/table_printer.h"

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
    std::string words;
    for (const auto& w : c.words) {
      words += (words.empty() ? "" : " ") + w;
    }
    if (!c.args_hint.empty()) {
      words += " " + c.args_hint;
    }
    table.add_row({"  " + words, c.help});
  }
  return table.render();
}

}  // namespace vigil::mgmt::cli

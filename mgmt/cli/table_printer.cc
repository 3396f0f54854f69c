#include "mgmt/cli/table_printer.h"

#include <algorithm>
#include <cassert>

namespace vigil::mgmt::cli {

void TablePrinter::add_row(std::vector<std::string> cells) {
  assert(cells.size() <= columns_.size());
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TablePrinter::render() const {
  std::vector<size_t> width(columns_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  if (header_) {
    measure(columns_);
  }
  std::for_each(rows_.begin(), rows_.end(), measure);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(width[i] - row[i].size() + 2, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  if (header_) {
    emit(columns_);
  }
  std::for_each(rows_.begin(), rows_.end(), emit);
  return out;
}

}  // namespace vigil::mgmt::cli

// Aligned plain-text tables for `show` output meant for people (`--json` is for scripts).
#pragma once

#include <string>
#include <vector>

namespace vigil::mgmt::cli {

class TablePrinter {
 public:
  explicit TablePrinter(std::vector<std::string> columns, bool header = true)
      : columns_(std::move(columns)), header_(header) {}

  // A row shorter than the header is padded with empty cells; a longer one is a bug.
  void add_row(std::vector<std::string> cells);
  // Columns separated by two spaces, no trailing blanks, one line per row.
  std::string render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> columns_;
  bool header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace vigil::mgmt::cli

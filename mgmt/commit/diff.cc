#include "mgmt/commit/diff.h"

#include <dtl/dtl.hpp>
#include <sstream>
#include <vector>

namespace vigil::mgmt::commit {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

}  // namespace

std::string unified_diff(const std::string& from, const std::string& to,
                         const std::string& from_name, const std::string& to_name) {
  if (from == to) {
    return "";
  }
  dtl::Diff<std::string, std::vector<std::string>> diff(lines_of(from), lines_of(to));
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  out << "--- " << from_name << "\n+++ " << to_name << "\n";
  diff.printUnifiedFormat(out);
  return out.str();
}

}  // namespace vigil::mgmt::commit

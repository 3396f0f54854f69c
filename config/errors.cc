#include "config/errors.h"

#include <algorithm>

namespace vigil::config {

std::string ConfigError::to_string() const {
  std::string out = path.empty() ? "(document)" : path;
  if (line > 0) {
    out += " (" + std::to_string(line) + ":" + std::to_string(column) + ")";
  }
  return out + ": " + message;
}

void ErrorList::add(std::string path, const YAML::Mark& mark, std::string message) {
  if (errors_.size() >= kMaxErrors) {
    truncated_ = true;
    return;
  }
  // yaml-cpp marks are 0-based (and -1 for nodes it made up); editors count from 1.
  const int line = mark.line >= 0 ? mark.line + 1 : 0;
  const int column = mark.column >= 0 ? mark.column + 1 : 0;
  errors_.push_back({std::move(path), line, column, std::move(message)});
}

void ErrorList::add_value_error(std::string path, const YAML::Node& node, std::string message) {
  const size_t before = errors_.size();
  add(std::move(path), node.Mark(), std::move(message));
  if (errors_.size() > before) {
    errors_.back().value_error = true;
  }
}

std::vector<ConfigError> ErrorList::sorted() const {
  std::vector<ConfigError> out = errors_;
  std::stable_sort(out.begin(), out.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return out;
}

std::string ErrorList::to_string() const {
  std::string out;
  for (const ConfigError& e : sorted()) {
    out += e.to_string() + "\n";
  }
  if (truncated_) {
    out += "(more errors not shown; the first " + std::to_string(kMaxErrors) + " are above)\n";
  }
  return out;
}

std::string join_path(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

std::string index_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

}  // namespace vigil::config

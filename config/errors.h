// Config validation errors, each naming where in the document it is and what is wrong:
//   l7.routes[2].upstream (41:17): no upstream named "api-v2"
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace vigil::config {

struct ConfigError {
  std::string path;  // "interfaces.wan1.addresses[0]"; "" for the document itself
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string message;
  // The value does not fit its field's type (an integer out of range, not an address, not one
  // of the choices): `set` refuses such a value at once; other errors (references, conflicts,
  // what is missing) wait for `commit check`.
  bool value_error = false;

  std::string to_string() const;
};

class ErrorList {
 public:
  // Stops collecting after this many, so a hostile document cannot make a huge report.
  static constexpr size_t kMaxErrors = 100;

  void add(std::string path, const YAML::Mark& mark, std::string message);
  void add(std::string path, const YAML::Node& node, std::string message) {
    add(std::move(path), node.Mark(), std::move(message));
  }
  // The same, marked as a value that does not fit its type (ConfigError::value_error).
  void add_value_error(std::string path, const YAML::Node& node, std::string message);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  bool truncated() const { return truncated_; }
  const std::vector<ConfigError>& errors() const { return errors_; }  // in the order found
  std::vector<ConfigError> sorted() const;                            // in document order
  // One error per line, in document order.
  std::string to_string() const;

 private:
  std::vector<ConfigError> errors_;
  bool truncated_ = false;
};

// "a.b" + "c" -> "a.b.c"; "a" + "[2]" -> "a[2]".
std::string join_path(const std::string& parent, const std::string& child);
std::string index_path(const std::string& parent, size_t index);

}  // namespace vigil::config

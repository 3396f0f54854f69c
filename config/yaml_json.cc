#include "config/yaml_json.h"

namespace vigil::config {

nlohmann::json to_json(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) {
    return nullptr;
  }
  if (node.IsScalar()) {
    return node.Scalar();
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      out.push_back(to_json(item));
    }
    return out;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& kv : node) {
    out[kv.first.Scalar()] = to_json(kv.second);
  }
  return out;
}

bool same(const YAML::Node& a, const YAML::Node& b) {
  const bool a_empty = !a.IsDefined() || a.IsNull();
  const bool b_empty = !b.IsDefined() || b.IsNull();
  if (a_empty || b_empty) {
    return a_empty == b_empty;
  }
  if (a.Type() != b.Type() || a.size() != b.size()) {
    return false;
  }
  if (a.IsScalar()) {
    return a.Scalar() == b.Scalar();
  }
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  for (const auto& kv : a) {
    if (!kv.first.IsScalar() || !same(kv.second, b[kv.first.Scalar()])) {
      return false;
    }
  }
  return true;
}

namespace {

void use_block_style(YAML::Node node) {
  if (node.IsMap() || node.IsSequence()) {
    // Empty collections stay flow ({} and []): block style cannot write them.
    node.SetStyle(node.size() == 0 ? YAML::EmitterStyle::Flow : YAML::EmitterStyle::Block);
    for (auto it = node.begin(); it != node.end(); ++it) {
      use_block_style(node.IsMap() ? it->second : *it);
    }
  }
}

}  // namespace

std::string emit(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || (node.IsMap() && node.size() == 0)) {
    return "";
  }
  // Canonical text: block style throughout, whatever style the loaded file used.
  YAML::Node copy = YAML::Clone(node);
  use_block_style(copy);
  YAML::Emitter out;
  out << copy;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vigil::config

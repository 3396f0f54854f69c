// Converting and combining config documents: YAML to JSON for deltas on the wire, a deep
// merge for `load merge`, and canonical text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vigil::config {

// Scalars become strings: the schema, not YAML's guessing, decides types.
nlohmann::json to_json(const YAML::Node& node);
// Mappings merge key by key, recursively; anything else in `overlay` replaces `base`.
YAML::Node merge(const YAML::Node& base, const YAML::Node& overlay);
std::string emit(const YAML::Node& node);
// Deep equality as the schema reads documents: scalars by text, mappings regardless of key
// order. Missing and null are equal. Allocates nothing, unlike comparing to_json() results.
bool same(const YAML::Node& a, const YAML::Node& b);

}  // namespace vigil::config

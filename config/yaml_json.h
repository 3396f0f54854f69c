// Converting and comparing config documents: YAML to JSON for deltas on the wire, a deep
// comparison and canonical text (`load merge` is config/merge.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vigil::config {

// Scalars become strings: the schema, not YAML's guessing, decides types.
nlohmann::json to_json(const YAML::Node& node);
std::string emit(const YAML::Node& node);
// Deep equality as the schema reads documents: scalars by text, mappings regardless of key
// order. Missing and null are equal. Allocates nothing, unlike comparing to_json() results.
bool same(const YAML::Node& a, const YAML::Node& b);

}  // namespace vigil::config

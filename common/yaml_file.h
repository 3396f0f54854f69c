// Reads a YAML document from disk with errors an operator can act on:
// "/etc/vigil/vigil.yaml (12:3): end of map not found".
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/expected.h"

namespace vigil {

// Larger documents are refused before parsing: a config is kilobytes, rarely megabytes.
inline constexpr size_t kMaxYamlBytes = 16 << 20;

// The document must be a mapping at the top (an empty file is an empty mapping).
Expected<YAML::Node> load_yaml_file(const std::string& path);
Expected<YAML::Node> parse_yaml(const std::string& text, const std::string& origin);

}  // namespace vigil

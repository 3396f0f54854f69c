// Reads a YAML document from disk with errors an operator can act on:
// "/etc/vigil/vigil.yaml (12:3): end of map not found".
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/expected.h"

namespace vigil {

// Larger documents are refused before parsing: a config is kilobytes, rarely megabytes.
inline constexpr size_t kMaxYamlBytes = 4 << 20;
// Limits on the parsed document, checked before anything walks it. yaml-cpp shares an
// anchored node between its aliases, so nine nested aliases in 500 bytes ("billion laughs")
// parse at once but expand to 10^9 nodes for whoever copies, merges or prints the tree; the
// count is of nodes as a walk sees them, aliases expanded. Depth bounds the recursion of
// every such walk (and catches an alias inside its own anchor).
inline constexpr size_t kMaxYamlDepth = 64;
inline constexpr size_t kMaxYamlNodes = 1'000'000;
// The text of every scalar as the walk sees it, aliases expanded: one long anchored scalar
// aliased many times is few nodes but many bytes for whoever copies the tree.
inline constexpr size_t kMaxYamlExpandedBytes = 64 << 20;

// The document must be a mapping at the top (an empty file is an empty mapping).
Expected<YAML::Node> load_yaml_file(const std::string& path);
Expected<YAML::Node> parse_yaml(const std::string& text, const std::string& origin);

}  // namespace vigil

// Three-way merge of config documents, for `update`: a candidate made from running config
// `base` (ours) takes in what others committed since (theirs), where the two did not change
// the same thing. Along the schema: mappings and named maps key by key, keyed lists entry by
// entry (by schema.h's entry_key), anything else as one value. A value both sides changed to
// different things is a conflict, named by its path; the merge keeps ours there.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace vigil::config {

struct Merge3 {
  YAML::Node merged;
  std::vector<std::string> conflicts;  // paths: "system.hostname", "filter.acl[deny-doc]"
};

Merge3 merge3(const YAML::Node& base, const YAML::Node& ours, const YAML::Node& theirs);

}  // namespace vigil::config

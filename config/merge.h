// `load merge`: a document laid over another along the schema, as Junos merges. Mappings and
// named maps merge key by key; keyed lists (schema.h's entry_key) entry by entry, an entry of
// the overlay merging into the one of the same name and new ones appended, so a file with one
// static route adds (or changes) that route and keeps the others; lists of values gain the
// overlay's values they lack. Anything else the overlay says replaces what was there.
#pragma once

#include <yaml-cpp/yaml.h>

namespace vigil::config {

YAML::Node merge(const YAML::Node& base, const YAML::Node& overlay);

}  // namespace vigil::config

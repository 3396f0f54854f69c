// Keyed lists (schema.h's entry_key and entry_qualifier): how an entry of a list is named, how
// `set`, `delete` and `load merge` find it, and the check that no two entries share a name.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.h"
#include "config/schema.h"

namespace vigil::config {

struct EntryId {
  std::string key;
  std::string qualifier;  // empty when the list has none
  bool operator==(const EntryId&) const = default;
  // "10.0.0.0/8", or "0.0.0.0/0 distance 10" when the qualifier is not its default.
  std::string to_string(const Field& list) const;
};

// The qualifier an entry has when it does not say (its field's default), "" without one.
std::string default_qualifier(const Field& list);

// The entry's name; nullopt when it has no scalar key.
std::optional<EntryId> entry_id(const YAML::Node& entry, const Field& list);

// Indices of the entries of `list` named `key`, with `qualifier` when one is given.
std::vector<size_t> find_entries(const YAML::Node& list, const Field& list_field,
                                 const std::string& key,
                                 const std::optional<std::string>& qualifier);

// Each named entry's index by EntryId::to_string (the first of a repeated name): one lookup
// per entry instead of a scan of the list.
std::map<std::string, size_t> index_entries(const YAML::Node& list, const Field& list_field);

// Walks `document` along the schema and reports every entry of a keyed list named like an
// earlier one of the same list.
void check_entry_keys(const YAML::Node& document, ErrorList& errors);

}  // namespace vigil::config

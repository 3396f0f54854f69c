#include "config/entry_keys.h"

#include <algorithm>
#include <map>

#include "config/sections.h"

namespace vigil::config {
namespace {

std::string scalar_at(const YAML::Node& entry, std::string_view key) {
  if (!entry.IsMap()) {
    return {};
  }
  const YAML::Node v = entry[std::string(key)];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : std::string();
}

void check_mapping(const YAML::Node& node, const Schema& schema, const std::string& path,
                   ErrorList& errors);

void check_field(const YAML::Node& value, const Field& f, const std::string& path,
                 ErrorList& errors) {
  if (f.children == nullptr || !value.IsDefined() || value.IsNull()) {
    return;
  }
  if (field_kind(f) == FieldKind::kNamedMap) {
    if (value.IsMap()) {
      for (const auto& kv : value) {
        check_mapping(kv.second, *f.children, join_path(path, kv.first.Scalar()), errors);
      }
    }
    return;
  }
  if (field_kind(f) == FieldKind::kEntryList) {
    if (!value.IsSequence()) {
      return;
    }
    std::map<std::string, size_t> first_at;  // EntryId::to_string -> index
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string item = index_path(path, i);
      check_mapping(value[i], *f.children, item, errors);
      if (f.entry_key.empty()) {
        continue;
      }
      const auto id = entry_id(value[i], f);
      if (!id) {
        continue;  // a missing key is the section reader's error
      }
      const auto [it, fresh] = first_at.emplace(id->to_string(f), i);
      // The section's reader may have said so already, in its own words.
      const bool said = std::any_of(
          errors.errors().begin(), errors.errors().end(),
          [&](const ConfigError& e) { return e.path == item || e.path.starts_with(item + "."); });
      if (!fresh && !said) {
        errors.add(join_path(item, std::string(f.entry_key)), value[i][std::string(f.entry_key)],
                   "\"" + id->to_string(f) + "\" is " + index_path(path, it->second) +
                       " already: entries of a list are named by their " +
                       std::string(f.entry_key) +
                       (f.entry_qualifier.empty() ? "" : " and " + std::string(f.entry_qualifier)));
      }
    }
    return;
  }
  if (value.IsMap()) {
    check_mapping(value, *f.children, path, errors);
  }
}

void check_mapping(const YAML::Node& node, const Schema& schema, const std::string& path,
                   ErrorList& errors) {
  if (!node.IsMap()) {
    return;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      continue;
    }
    if (const Field* f = schema.find(kv.first.Scalar())) {
      check_field(kv.second, *f, join_path(path, kv.first.Scalar()), errors);
    }
  }
}

}  // namespace

std::string EntryId::to_string(const Field& list) const {
  if (list.entry_qualifier.empty() || qualifier == default_qualifier(list)) {
    return key;
  }
  return key + " " + std::string(list.entry_qualifier) + " " + qualifier;
}

std::string default_qualifier(const Field& list) {
  if (list.entry_qualifier.empty() || list.children == nullptr) {
    return {};
  }
  const Field* q = list.children->find(list.entry_qualifier);
  return q == nullptr ? std::string() : std::string(q->default_value);
}

std::optional<EntryId> entry_id(const YAML::Node& entry, const Field& list) {
  std::string key = scalar_at(entry, list.entry_key);
  if (key.empty()) {
    return std::nullopt;
  }
  std::string qualifier;
  if (!list.entry_qualifier.empty()) {
    qualifier = scalar_at(entry, list.entry_qualifier);
    if (qualifier.empty()) {
      qualifier = default_qualifier(list);
    }
  }
  return EntryId{.key = std::move(key), .qualifier = std::move(qualifier)};
}

std::vector<size_t> find_entries(const YAML::Node& list, const Field& list_field,
                                 const std::string& key,
                                 const std::optional<std::string>& qualifier) {
  std::vector<size_t> out;
  if (!list.IsSequence()) {
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto id = entry_id(list[i], list_field);
    if (id && id->key == key && (!qualifier || id->qualifier == *qualifier)) {
      out.push_back(i);
    }
  }
  return out;
}

std::map<std::string, size_t> index_entries(const YAML::Node& list, const Field& list_field) {
  std::map<std::string, size_t> out;
  for (size_t i = 0; list.IsSequence() && i < list.size(); ++i) {
    if (const auto id = entry_id(list[i], list_field)) {
      out.emplace(id->to_string(list_field), i);
    }
  }
  return out;
}

void check_entry_keys(const YAML::Node& document, ErrorList& errors) {
  check_mapping(document, kDocumentSchema, "", errors);
}

}  // namespace vigil::config

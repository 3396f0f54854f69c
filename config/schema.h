// The config schema as data: which keys each mapping accepts, their types, defaults and
// meaning. The readers reject keys not listed here and docs/config.md is generated from
// it, so the documentation cannot drift from what vigild accepts.
#pragma once

#include <span>
#include <string_view>

namespace vigil::config {

struct Schema;

struct Field {
  std::string_view key;
  std::string_view type;  // for people: "IPv4/IPv6 prefix", "integer 68-9216"
  std::string_view description;
  std::string_view default_value = {};  // empty: no default
  bool required = false;
  const Schema* children = nullptr;  // the mapping this field holds (or holds a list/map of)
  // Declared so the name is reserved and documented, but rejected until its component
  // exists: "not supported yet", never silently ignored.
  std::string_view not_supported_until = {};
  // A list of entries (children set): the field of each entry that names it, as `set` and
  // `delete` address it (`set filter acl deny-doc action deny`) and `load merge` matches
  // entries by; unique within the list, with `entry_qualifier` when there is one: a second
  // field telling apart entries of the same name (a static route's distance), its child
  // field's default_value standing for it when absent.
  std::string_view entry_key = {};
  std::string_view entry_qualifier = {};
  // The entries' order decides (ACL rules: the first match wins): `update` refuses to merge
  // two different orders.
  bool ordered = false;
};

// What a field holds, read from its type: the shapes `set`, merges and `display set` walk.
enum class FieldKind {
  kScalar,      // one value
  kScalarList,  // "list of <value type>"
  kMapping,     // "mapping": a fixed set of keys (children)
  kNamedMap,    // "map of <thing>": entries by name, each a `children` mapping
  kEntryList,   // "list of <thing>" with children: entries, named by entry_key when keyed
};

inline FieldKind field_kind(const Field& f) {
  if (f.type.starts_with("map of ")) {
    return FieldKind::kNamedMap;
  }
  if (f.type.starts_with("list of ")) {
    return f.children != nullptr ? FieldKind::kEntryList : FieldKind::kScalarList;
  }
  return f.type == "mapping" ? FieldKind::kMapping : FieldKind::kScalar;
}

struct Schema {
  std::string_view path;  // where it appears, for docs: "interfaces.<name>"
  std::string_view description;
  std::span<const Field> fields;

  const Field* find(std::string_view key) const {
    for (const Field& f : fields) {
      if (f.key == key) {
        return &f;
      }
    }
    return nullptr;
  }
};

}  // namespace vigil::config

#include "config/merge3.h"

#include <optional>

#include "config/entry_keys.h"
#include "config/errors.h"
#include "config/sections.h"
#include "config/yaml_json.h"

namespace vigil::config {
namespace {

bool absent(const YAML::Node& n) {
  return !n.IsDefined() || n.IsNull();
}

class Merger {
 public:
  std::vector<std::string> conflicts;

  // The merged value at `path`; an undefined node when the merge removes it.
  YAML::Node value(const YAML::Node& base, const YAML::Node& ours, const YAML::Node& theirs,
                   const Field* field, const Schema* schema, const std::string& path) {
    if (same(ours, theirs)) {
      return clone_or_absent(ours);
    }
    if (same(base, ours)) {
      return clone_or_absent(theirs);
    }
    if (same(base, theirs)) {
      return clone_or_absent(ours);
    }
    // Both changed it, differently: look inside where the schema says what is inside.
    const bool maps = (absent(base) || base.IsMap()) && ours.IsMap() && theirs.IsMap();
    const bool lists =
        (absent(base) || base.IsSequence()) && ours.IsSequence() && theirs.IsSequence();
    if (maps && field != nullptr && field->type.starts_with("map of ")) {
      return mapping(base, ours, theirs, nullptr, field->children, path);
    }
    if (maps && schema != nullptr) {
      return mapping(base, ours, theirs, schema, nullptr, path);
    }
    if (lists && field != nullptr && field->children != nullptr && !field->entry_key.empty()) {
      return entries(base, ours, theirs, *field, path);
    }
    conflicts.push_back(path.empty() ? "(document)" : path);
    return clone_or_absent(ours);
  }

 private:
  static YAML::Node clone_or_absent(const YAML::Node& n) {
    return absent(n) ? YAML::Node() : YAML::Clone(n);
  }

  // Keys of a mapping (`schema` set: its fields) or of a named map (`entry_schema` set: the
  // schema of every value), ours' order first, then theirs' new keys.
  YAML::Node mapping(const YAML::Node& base, const YAML::Node& ours, const YAML::Node& theirs,
                     const Schema* schema, const Schema* entry_schema, const std::string& path) {
    std::vector<std::string> keys;
    auto add_keys = [&keys](const YAML::Node& m) {
      if (!m.IsMap()) {
        return;
      }
      for (const auto& kv : m) {
        const std::string k = kv.first.Scalar();
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
          keys.push_back(k);
        }
      }
    };
    add_keys(ours);
    add_keys(theirs);
    add_keys(base);
    YAML::Node out(YAML::NodeType::Map);
    for (const std::string& k : keys) {
      const Field* f = schema != nullptr ? schema->find(k) : nullptr;
      const Schema* inner = f != nullptr ? f->children : entry_schema;
      const YAML::Node v =
          value(at(base, k), at(ours, k), at(theirs, k), f,
                f != nullptr && f->type == "mapping" ? f->children : inner, join_path(path, k));
      if (!absent(v)) {
        out[k] = v;
      }
    }
    return out;
  }

  // A keyed list as a map from entry name to entry, kept in ours' order, then theirs' new ones.
  YAML::Node entries(const YAML::Node& base, const YAML::Node& ours, const YAML::Node& theirs,
                     const Field& f, const std::string& path) {
    std::vector<EntryId> ids;
    auto add_ids = [&](const YAML::Node& list) {
      for (size_t i = 0; list.IsSequence() && i < list.size(); ++i) {
        const auto id = entry_id(list[i], f);
        if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) {
          ids.push_back(*id);
        }
      }
    };
    add_ids(ours);
    add_ids(theirs);
    add_ids(base);
    YAML::Node out(YAML::NodeType::Sequence);
    for (const EntryId& id : ids) {
      const YAML::Node v = value(entry(base, f, id), entry(ours, f, id), entry(theirs, f, id),
                                 nullptr, f.children, path + "[" + id.to_string(f) + "]");
      if (!absent(v)) {
        out.push_back(v);
      }
    }
    return out;
  }

  static YAML::Node at(const YAML::Node& m, const std::string& key) {
    return m.IsMap() ? m[key] : YAML::Node();
  }

  static YAML::Node entry(const YAML::Node& list, const Field& f, const EntryId& id) {
    const auto found = find_entries(list, f, id.key, id.qualifier);
    return found.size() == 1 ? list[found[0]] : YAML::Node();
  }
};

}  // namespace

Merge3 merge3(const YAML::Node& base, const YAML::Node& ours, const YAML::Node& theirs) {
  Merger m;
  YAML::Node merged = m.value(base, ours, theirs, nullptr, &kDocumentSchema, "");
  return {.merged = absent(merged) ? YAML::Node(YAML::NodeType::Map) : merged,
          .conflicts = std::move(m.conflicts)};
}

}  // namespace vigil::config

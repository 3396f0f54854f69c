#include "config/merge3.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

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
    if (maps && field != nullptr && field_kind(*field) == FieldKind::kNamedMap) {
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
                f != nullptr && field_kind(*f) == FieldKind::kMapping ? f->children : inner,
                join_path(path, k));
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
    std::set<std::string> seen;
    bool unnamed = false;
    auto add_ids = [&](const YAML::Node& list, std::vector<EntryId>* order) {
      for (size_t i = 0; list.IsSequence() && i < list.size(); ++i) {
        const auto id = entry_id(list[i], f);
        if (!id) {
          unnamed = true;
          continue;
        }
        if (order != nullptr) {
          order->push_back(*id);
        }
        if (seen.insert(id->to_string(f)).second) {
          ids.push_back(*id);
        }
      }
    };
    std::vector<EntryId> our_order, their_order;
    add_ids(ours, &our_order);
    add_ids(theirs, &their_order);
    add_ids(base, nullptr);
    // An entry without its key cannot be matched across the sides, and in an ordered list
    // (ACL rules) where the entries stand decides what matches: both are for a person.
    if (unnamed || (f.ordered && !same_relative_order(our_order, their_order, base, f))) {
      conflicts.push_back(path + (unnamed
                                      ? " (an entry without its " + std::string(f.entry_key) + ")"
                                      : " (the order of its entries)"));
      return YAML::Clone(ours);
    }
    const auto base_at = index_entries(base, f), our_at = index_entries(ours, f),
               their_at = index_entries(theirs, f);
    YAML::Node out(YAML::NodeType::Sequence);
    for (const EntryId& id : ids) {
      const std::string name = id.to_string(f);
      const YAML::Node v =
          value(entry(base, base_at, name), entry(ours, our_at, name),
                entry(theirs, their_at, name), nullptr, f.children, path + "[" + name + "]");
      if (!absent(v)) {
        out.push_back(v);
      }
    }
    return out;
  }

  // A missing key of a const map is an invalid node in yaml-cpp (its Type() throws): absent.
  static YAML::Node at(const YAML::Node& m, const std::string& key) {
    if (!m.IsDefined() || !m.IsMap()) {
      return YAML::Node();
    }
    const YAML::Node v = m[key];
    return v.IsDefined() ? v : YAML::Node();
  }

  // Whether both sides keep the entries they share in one relative order, and the entries
  // new on their side come after all of ours (where appending puts them).
  static bool same_relative_order(const std::vector<EntryId>& ours,
                                  const std::vector<EntryId>& theirs, const YAML::Node& base,
                                  const Field& f) {
    std::set<std::string> in_ours, in_base;
    for (const auto& id : ours) {
      in_ours.insert(id.to_string(f));
    }
    for (size_t i = 0; base.IsSequence() && i < base.size(); ++i) {
      if (const auto id = entry_id(base[i], f)) {
        in_base.insert(id->to_string(f));
      }
    }
    std::vector<std::string> shared_theirs, shared_ours;
    bool new_seen = false;
    for (const auto& id : theirs) {
      const std::string k = id.to_string(f);
      if (in_ours.contains(k)) {
        if (new_seen) {
          return false;  // their new entry sits before one of ours
        }
        shared_theirs.push_back(k);
      } else if (!in_base.contains(k)) {
        new_seen = true;
      }
    }
    std::set<std::string> in_theirs(shared_theirs.begin(), shared_theirs.end());
    for (const auto& id : ours) {
      if (in_theirs.contains(id.to_string(f))) {
        shared_ours.push_back(id.to_string(f));
      }
    }
    return shared_ours == shared_theirs;
  }

  static YAML::Node entry(const YAML::Node& list, const std::map<std::string, size_t>& at,
                          const std::string& name) {
    const auto it = at.find(name);
    return it == at.end() ? YAML::Node() : list[it->second];
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

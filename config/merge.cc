#include "config/merge.h"

#include <map>
#include <set>
#include <string>

#include "config/entry_keys.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

YAML::Node merge_mapping(const YAML::Node& base, const YAML::Node& overlay, const Schema* schema);

bool empty(const YAML::Node& n) {
  return !n.IsDefined() || n.IsNull();
}

// The overlay's entries merged into the base's by name; unnamed ones appended.
YAML::Node merge_entries(const YAML::Node& base, const YAML::Node& overlay, const Field& f) {
  YAML::Node out = YAML::Clone(base);
  std::map<std::string, size_t> at = index_entries(out, f);
  for (const auto& entry : overlay) {
    const auto id = entry_id(entry, f);
    const auto it = id ? at.find(id->to_string(f)) : at.end();
    if (it != at.end()) {
      out[it->second] = merge_mapping(out[it->second], entry, f.children);
    } else {
      if (id) {
        at.emplace(id->to_string(f), out.size());
      }
      out.push_back(YAML::Clone(entry));  // new, or unnamed: the reader will say what is wrong
    }
  }
  return out;
}

// The base's values, then the overlay's it lacks.
YAML::Node merge_values(const YAML::Node& base, const YAML::Node& overlay) {
  YAML::Node out = YAML::Clone(base);
  std::set<std::string> present;
  for (const auto& b : base) {
    if (b.IsScalar()) {
      present.insert(b.Scalar());
    }
  }
  for (const auto& v : overlay) {
    if (!v.IsScalar() || present.insert(v.Scalar()).second) {
      out.push_back(YAML::Clone(v));
    }
  }
  return out;
}

YAML::Node merge_value(const YAML::Node& base, const YAML::Node& overlay, const Field* f) {
  if (empty(base)) {
    return YAML::Clone(overlay);
  }
  const Schema* children = f == nullptr ? nullptr : f->children;
  if (base.IsSequence() && overlay.IsSequence() && f != nullptr) {
    if (children != nullptr && !f->entry_key.empty()) {
      return merge_entries(base, overlay, *f);
    }
    if (children == nullptr) {
      return merge_values(base, overlay);
    }
  }
  if (base.IsMap() && overlay.IsMap()) {
    if (f != nullptr && field_kind(*f) == FieldKind::kNamedMap) {
      YAML::Node out = YAML::Clone(base);
      for (const auto& kv : overlay) {
        const std::string name = kv.first.Scalar();
        out[name] = empty(out[name]) ? YAML::Clone(kv.second)
                                     : merge_mapping(out[name], kv.second, children);
      }
      return out;
    }
    return merge_mapping(base, overlay, children);
  }
  return YAML::Clone(overlay);
}

YAML::Node merge_mapping(const YAML::Node& base, const YAML::Node& overlay, const Schema* schema) {
  if (!base.IsMap() || !overlay.IsMap()) {
    return YAML::Clone(overlay);
  }
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : overlay) {
    if (!kv.first.IsScalar()) {
      out[YAML::Clone(kv.first)] = YAML::Clone(kv.second);  // kept for the reader to refuse
      continue;
    }
    const std::string key = kv.first.Scalar();
    const Field* f = schema == nullptr ? nullptr : schema->find(key);
    out[key] = merge_value(out[key], kv.second, f);
  }
  return out;
}

}  // namespace

YAML::Node merge(const YAML::Node& base, const YAML::Node& overlay) {
  return merge_mapping(base, overlay, &kDocumentSchema);
}

}  // namespace vigil::config

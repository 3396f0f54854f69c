#include "config/set_commands.h"

#include <map>
#include <optional>

#include "config/entry_keys.h"
#include "config/sections.h"

namespace vigil::config {
namespace {

// What the walk writes to: the commands, and the entries it could not name.
struct Sink {
  std::vector<SetCommand> commands;
  std::vector<std::string>* left_out = nullptr;
};

void mapping_commands(const YAML::Node& map, const Schema* schema, SetCommand& words, Sink& out);

// How many entries of `list` share each key: an entry whose key is not unique is named with
// its qualifier even when it leaves the qualifier at its default, so its line finds it alone.
std::map<std::string, size_t> key_counts(const YAML::Node& list, const Field& f) {
  std::map<std::string, size_t> counts;
  for (const auto& item : list) {
    if (auto id = entry_id(item, f)) {
      ++counts[id->key];
    }
  }
  return counts;
}

void entry_list_commands(const YAML::Node& list, const Field& f, SetCommand& words, Sink& out) {
  const auto counts = key_counts(list, f);
  size_t index = 0;
  for (const auto& item : list) {
    const auto id = entry_id(item, f);
    if (!id) {
      if (out.left_out != nullptr) {
        std::string path;
        for (const auto& w : words) {
          path += (path.empty() ? "" : " ") + w;
        }
        out.left_out->push_back(path + "[" + std::to_string(index) + "]");
      }
      ++index;
      continue;
    }
    ++index;
    const size_t depth = words.size();
    words.push_back(id->key);
    const std::string qualifier(f.entry_qualifier);
    const bool qualified = !qualifier.empty() && !id->qualifier.empty() &&
                           (item[qualifier].IsDefined() || counts.at(id->key) > 1);
    if (qualified) {
      words.push_back(qualifier);
      words.push_back(id->qualifier);
    }
    // The fields other than the name, each under the entry's words.
    YAML::Node rest(YAML::NodeType::Map);
    for (const auto& kv : item) {
      const std::string key = kv.first.Scalar();
      if (key != f.entry_key && !(qualified && key == qualifier)) {
        rest[key] = kv.second;
      }
    }
    if (rest.size() == 0) {
      out.commands.push_back(words);  // an entry of its name alone
    }
    mapping_commands(rest, f.children, words, out);
    words.resize(depth);
  }
}

void field_commands(const YAML::Node& value, const Field* f, SetCommand& words, Sink& out) {
  const FieldKind kind = f != nullptr ? field_kind(*f) : FieldKind::kScalar;
  if (value.IsScalar()) {
    words.push_back(value.Scalar());
    out.commands.push_back(words);
    words.pop_back();
  } else if (value.IsSequence()) {
    if (kind == FieldKind::kEntryList && !f->entry_key.empty()) {
      entry_list_commands(value, *f, words, out);
      return;
    }
    for (const auto& item : value) {
      if (item.IsScalar()) {
        words.push_back(item.Scalar());
        out.commands.push_back(words);
        words.pop_back();
      }
    }
  } else if (value.IsMap()) {
    const Schema* children = f != nullptr ? f->children : nullptr;
    if (kind != FieldKind::kNamedMap) {
      if (value.size() == 0) {
        out.commands.push_back(words);  // an empty mapping: `set monitoring prometheus` makes it
      }
      mapping_commands(value, children, words, out);
      return;
    }
    for (const auto& kv : value) {
      words.push_back(kv.first.Scalar());
      if (!kv.second.IsMap() || kv.second.size() == 0) {
        out.commands.push_back(words);  // `set interfaces lan0` alone makes the entry
      } else {
        mapping_commands(kv.second, children, words, out);
      }
      words.pop_back();
    }
  }
}

void mapping_commands(const YAML::Node& map, const Schema* schema, SetCommand& words, Sink& out) {
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    words.push_back(key);
    field_commands(kv.second, schema != nullptr ? schema->find(key) : nullptr, words, out);
    words.pop_back();
  }
}

YAML::Node mapping_subtree(const YAML::Node& map, const Schema* schema,
                           const std::vector<std::string>& words, size_t at);

// `value`, the value of field `f`, pruned to what words[at...] names.
YAML::Node field_subtree(const YAML::Node& value, const Field* f,
                         const std::vector<std::string>& words, size_t at) {
  if (at == words.size()) {
    return YAML::Clone(value);
  }
  const FieldKind kind = f != nullptr ? field_kind(*f) : FieldKind::kScalar;
  const Schema* children = f != nullptr ? f->children : nullptr;
  if (value.IsScalar()) {
    return at + 1 == words.size() && value.Scalar() == words[at] ? YAML::Clone(value)
                                                                 : YAML::Node();
  }
  if (value.IsSequence() && kind == FieldKind::kEntryList && !f->entry_key.empty()) {
    const std::string qualifier(f->entry_qualifier);
    std::optional<std::string> wanted_qualifier;
    size_t next = at + 1;
    if (!qualifier.empty() && next + 1 < words.size() && words[next] == qualifier) {
      wanted_qualifier = words[next + 1];
      next += 2;
    }
    YAML::Node kept(YAML::NodeType::Sequence);
    for (const size_t i : find_entries(value, *f, words[at], wanted_qualifier)) {
      const YAML::Node entry = value[i];
      YAML::Node part = mapping_subtree(entry, children, words, next);
      if (part.IsNull()) {
        continue;
      }
      // The entry keeps its name, first, so what is shown still says which entry it is.
      YAML::Node named(YAML::NodeType::Map);
      for (const auto& name : {std::string(f->entry_key), qualifier}) {
        if (!name.empty() && entry[name].IsDefined()) {
          named[name] = YAML::Clone(entry[name]);
        }
      }
      for (const auto& kv : part) {
        named[kv.first.Scalar()] = kv.second;
      }
      kept.push_back(named);
    }
    return kept.size() > 0 ? kept : YAML::Node();
  }
  if (value.IsSequence()) {
    YAML::Node kept(YAML::NodeType::Sequence);
    for (const auto& item : value) {
      if (at + 1 == words.size() && item.IsScalar() && item.Scalar() == words[at]) {
        kept.push_back(YAML::Clone(item));
      }
    }
    return kept.size() > 0 ? kept : YAML::Node();
  }
  if (value.IsMap() && kind == FieldKind::kNamedMap) {
    const YAML::Node entry = value[words[at]];
    if (!entry.IsDefined()) {
      return YAML::Node();
    }
    YAML::Node part =
        at + 1 == words.size()
            ? YAML::Clone(entry)
            : (entry.IsMap() ? mapping_subtree(entry, children, words, at + 1) : YAML::Node());
    if (at + 1 < words.size() && part.IsNull()) {
      return YAML::Node();
    }
    YAML::Node out(YAML::NodeType::Map);
    out[words[at]] = part;
    return out;
  }
  if (value.IsMap()) {
    return mapping_subtree(value, children, words, at);
  }
  return YAML::Node();
}

YAML::Node mapping_subtree(const YAML::Node& map, const Schema* schema,
                           const std::vector<std::string>& words, size_t at) {
  if (at == words.size()) {
    return YAML::Clone(map);
  }
  if (!map.IsMap()) {
    return YAML::Node();
  }
  const YAML::Node value = map[words[at]];
  if (!value.IsDefined()) {
    return YAML::Node();
  }
  YAML::Node part =
      field_subtree(value, schema != nullptr ? schema->find(words[at]) : nullptr, words, at + 1);
  if (part.IsNull() && at + 1 < words.size()) {
    return YAML::Node();
  }
  YAML::Node out(YAML::NodeType::Map);
  out[words[at]] = part;
  return out;
}

}  // namespace

std::vector<SetCommand> set_commands(const YAML::Node& document,
                                     std::vector<std::string>* left_out) {
  Sink out{.left_out = left_out};
  SetCommand words;
  if (document.IsMap()) {
    mapping_commands(document, &kDocumentSchema, words, out);
  }
  return std::move(out.commands);
}

YAML::Node subtree(const YAML::Node& document, const std::vector<std::string>& words) {
  return mapping_subtree(document, &kDocumentSchema, words, 0);
}

}  // namespace vigil::config

#include "config/edit.h"

#include <algorithm>
#include <optional>

#include "config/entry_keys.h"
#include "config/sections.h"
#include "config/yaml_json.h"

namespace vigil::config {
namespace {

std::string join(const std::vector<std::string>& words, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < words.size(); ++i) {
    out += (i ? " " : "") + words[i];
  }
  return out;
}

std::string keys_of(const Schema& s) {
  std::string out;
  for (const Field& f : s.fields) {
    if (f.not_supported_until.empty()) {
      out += (out.empty() ? "" : ", ") + std::string(f.key);
    }
  }
  return out;
}

// The words naming an entry of keyed list `f` from words[at]: its key and, when the next two
// words are `<qualifier> <value>`, that value; `next` is the first word after them.
struct EntryWords {
  std::string key;
  std::optional<std::string> qualifier;
  size_t next = 0;
};

EntryWords entry_words(const Field& f, const std::vector<std::string>& words, size_t at) {
  EntryWords e{.key = words[at], .next = at + 1};
  if (!f.entry_qualifier.empty() && e.next + 1 < words.size() &&
      words[e.next] == f.entry_qualifier) {
    e.qualifier = words[e.next + 1];
    e.next += 2;
  }
  return e;
}

// Where a path ends: the mapping holding the last key, that key, and what it is.
struct Target {
  YAML::Node parent;  // a mapping
  std::string key;
  const Field* field = nullptr;
  size_t next = 0;   // index of the first word after the key (and name, for named maps)
  std::string name;  // named maps: the entry's name; keyed lists: its key's value
  std::optional<std::string> qualifier;  // keyed lists: the qualifier's value, when given
  std::string path;                      // of parent[key], as config errors name it
};

// The entry of keyed list `t` (t.name given): its index, made at the end when `create` and
// missing. `words` and `upto` only word the errors.
Expected<size_t> resolve_entry(Target& t, bool create, const std::vector<std::string>& words,
                               size_t upto) {
  const Field& f = *t.field;
  YAML::Node list = t.parent[t.key];
  const auto found = find_entries(list, f, t.name, t.qualifier);
  if (found.size() > 1) {
    std::string which;
    for (const size_t i : found) {
      which += (which.empty() ? "" : ", ") + entry_id(list[i], f)->qualifier;
    }
    return fail("\"" + join(words, upto) + "\" names " + std::to_string(found.size()) +
                " entries (" + std::string(f.entry_qualifier) + " " + which +
                "): say which with `" + join(words, upto) + " " + std::string(f.entry_qualifier) +
                " <value>`");
  }
  if (found.size() == 1) {
    return found[0];
  }
  if (!create) {
    return fail("\"" + join(words, upto) + "\" does not exist");
  }
  YAML::Node entry(YAML::NodeType::Map);
  entry[std::string(f.entry_key)] = t.name;
  if (t.qualifier) {
    entry[std::string(f.entry_qualifier)] = *t.qualifier;
  }
  if (!list.IsSequence()) {
    t.parent[t.key] = YAML::Node(YAML::NodeType::Sequence);
    list.reset(t.parent[t.key]);
  }
  list.push_back(entry);
  return list.size() - 1;
}

Expected<Target> walk(const YAML::Node& document, const std::vector<std::string>& words,
                      bool create) {
  const Schema* schema = &kDocumentSchema;
  YAML::Node node = document;
  std::string path;
  size_t i = 0;
  while (true) {
    if (i >= words.size()) {
      return fail("incomplete: after \"" + join(words, i) + "\" comes one of: " + keys_of(*schema));
    }
    const Field* f = schema->find(words[i]);
    if (f == nullptr) {
      return fail("\"" + words[i] + "\" is not valid after \"" + join(words, i) +
                  "\"; expected one of: " + keys_of(*schema));
    }
    if (!f->not_supported_until.empty()) {
      return fail("\"" + words[i] + "\" is not supported yet by this build (arrives with " +
                  std::string(f->not_supported_until) + ")");
    }
    const FieldKind kind = field_kind(*f);
    Target t{.parent = node,
             .key = words[i],
             .field = f,
             .next = i + 1,
             .path = join_path(path, words[i])};
    if (kind == FieldKind::kNamedMap) {
      if (i + 1 >= words.size()) {
        return t;  // the whole map
      }
      t.name = words[i + 1];
      t.next = i + 2;
      if (t.next >= words.size() || f->children == nullptr) {
        return t;  // one entry
      }
      if (!create && (!node[t.key].IsMap() || !node[t.key][t.name].IsDefined())) {
        return fail("\"" + join(words, t.next) + "\" does not exist");
      }
      if (create && !node[t.key].IsMap()) {
        node[t.key] = YAML::Node(YAML::NodeType::Map);
      }
      if (create && !node[t.key][t.name].IsMap()) {
        node[t.key][t.name] = YAML::Node(YAML::NodeType::Map);
      }
      node.reset(node[t.key][t.name]);  // rebind; operator= would write through
      path = join_path(t.path, t.name);
      schema = f->children;
      i = t.next;
      continue;
    }
    if (kind == FieldKind::kEntryList && !f->entry_key.empty()) {
      if (i + 1 >= words.size()) {
        return t;  // the whole list
      }
      EntryWords e = entry_words(*f, words, i + 1);
      t.name = std::move(e.key);
      t.qualifier = std::move(e.qualifier);
      t.next = e.next;
      if (t.next >= words.size()) {
        return t;  // one entry
      }
      if (words[t.next] == f->entry_key) {
        return fail("\"" + join(words, t.next + 1) + "\" names the entry: delete it and set " +
                    "one with the new " + std::string(f->entry_key));
      }
      auto index = resolve_entry(t, create, words, t.next);
      if (!index) {
        return fail(index.error());
      }
      YAML::Node list = node[t.key];
      node.reset(list[*index]);
      path = index_path(t.path, *index);
      schema = f->children;
      i = t.next;
      continue;
    }
    if (kind == FieldKind::kMapping && f->children != nullptr && i + 1 < words.size()) {
      if (!create && !node[t.key].IsMap()) {
        return fail("\"" + join(words, i + 1) + "\" does not exist");
      }
      if (create && !node[t.key].IsMap()) {
        node[t.key] = YAML::Node(YAML::NodeType::Map);
      }
      node.reset(node[t.key]);
      path = t.path;
      schema = f->children;
      ++i;
      continue;
    }
    return t;
  }
}

// The list without its element `index`.
YAML::Node without(const YAML::Node& list, size_t index) {
  YAML::Node kept(YAML::NodeType::Sequence);
  for (size_t i = 0; i < list.size(); ++i) {
    if (i != index) {
      kept.push_back(list[i]);
    }
  }
  return kept;
}

}  // namespace

Expected<std::string> set_path(YAML::Node& document, const std::vector<std::string>& words) {
  YAML::Node copy = YAML::Clone(document);  // edits go to a copy: errors change nothing
  auto t = walk(copy, words, /*create=*/true);
  if (!t) {
    return fail(t.error());
  }
  const std::vector<std::string> values(words.begin() + static_cast<long>(t->next), words.end());
  std::string path = t->path;
  switch (field_kind(*t->field)) {
    case FieldKind::kScalar:
      if (values.size() != 1) {
        return fail("\"" + join(words, t->next) + "\" takes one value (" +
                    std::string(t->field->type) + ")");
      }
      t->parent[t->key] = values[0];
      break;
    case FieldKind::kScalarList: {
      if (values.empty()) {
        return fail("\"" + join(words, t->next) + "\" needs a value to add (" +
                    std::string(t->field->type) + ")");
      }
      YAML::Node list = t->parent[t->key];
      if (!list.IsSequence()) {
        list = YAML::Node(YAML::NodeType::Sequence);
      }
      for (const auto& v : values) {
        bool present = false;
        for (const auto& item : list) {
          present |= item.IsScalar() && item.Scalar() == v;
        }
        if (!present) {
          list.push_back(v);
        }
      }
      t->parent[t->key] = list;
      break;
    }
    case FieldKind::kNamedMap:
      if (t->name.empty()) {
        return fail("\"" + join(words, t->next) + "\" needs a name");
      }
      if (!t->parent[t->key].IsMap()) {
        t->parent[t->key] = YAML::Node(YAML::NodeType::Map);
      }
      if (!t->parent[t->key][t->name].IsDefined() || t->parent[t->key][t->name].IsNull()) {
        t->parent[t->key][t->name] = YAML::Node(YAML::NodeType::Map);
      }
      path = join_path(path, t->name);
      break;
    case FieldKind::kMapping:
      if (!t->parent[t->key].IsMap()) {
        t->parent[t->key] = YAML::Node(YAML::NodeType::Map);
      }
      break;
    case FieldKind::kEntryList: {
      if (t->field->entry_key.empty()) {
        return fail("\"" + join(words, t->next) +
                    "\" is a list of entries without names: edit it in a file and `load merge` it");
      }
      if (t->name.empty()) {
        return fail("\"" + join(words, t->next) + "\" needs the " +
                    std::string(t->field->entry_key) + " of an entry");
      }
      auto index = resolve_entry(*t, /*create=*/true, words, t->next);
      if (!index) {
        return fail(index.error());
      }
      path = index_path(path, *index);
      break;
    }
  }
  document = copy;
  return path;
}

Status delete_path(YAML::Node& document, const std::vector<std::string>& words) {
  YAML::Node copy = YAML::Clone(document);
  auto t = walk(copy, words, /*create=*/false);
  if (!t) {
    return fail(t.error());
  }
  const std::string where = join(words, words.size());
  if (!t->parent.IsMap() || !t->parent[t->key].IsDefined()) {
    return fail("\"" + where + "\" does not exist");
  }
  const FieldKind kind = field_kind(*t->field);
  if (kind == FieldKind::kNamedMap && !t->name.empty()) {
    if (!t->parent[t->key].IsMap() || !t->parent[t->key][t->name].IsDefined()) {
      return fail("\"" + where + "\" does not exist");
    }
    t->parent[t->key].remove(t->name);
  } else if (kind == FieldKind::kEntryList && !t->name.empty()) {
    auto index = resolve_entry(*t, /*create=*/false, words, t->next);
    if (!index) {
      return fail(index.error());
    }
    YAML::Node kept = without(t->parent[t->key], *index);
    if (kept.size() == 0) {
      t->parent.remove(t->key);
    } else {
      t->parent[t->key] = kept;
    }
  } else if (kind == FieldKind::kScalarList && t->next < words.size()) {
    YAML::Node kept(YAML::NodeType::Sequence);
    bool found = false;
    for (const auto& item : t->parent[t->key]) {
      const bool drop = item.IsScalar() && std::find(words.begin() + static_cast<long>(t->next),
                                                     words.end(), item.Scalar()) != words.end();
      found |= drop;
      if (!drop) {
        kept.push_back(item);
      }
    }
    if (!found) {
      return fail("\"" + where + "\" does not exist");
    }
    t->parent[t->key] = kept;
  } else if (t->next < words.size()) {
    return fail("\"" + join(words, t->next) + "\" has no parts to delete: delete it whole");
  } else {
    t->parent.remove(t->key);
  }
  document = copy;
  return Ok{};
}

Status insert_path(YAML::Node& document, const std::vector<std::string>& words, bool before,
                   const std::string& other) {
  YAML::Node copy = YAML::Clone(document);
  auto t = walk(copy, words, /*create=*/false);
  if (!t) {
    return fail(t.error());
  }
  if (field_kind(*t->field) != FieldKind::kEntryList || t->field->entry_key.empty() ||
      t->name.empty() || t->next != words.size()) {
    return fail("\"" + join(words, words.size()) +
                "\" is not an entry of a list: insert moves one entry of a list (`insert filter "
                "acl <name> before|after <name>`)");
  }
  auto index = resolve_entry(*t, /*create=*/false, words, t->next);
  if (!index) {
    return fail(index.error());
  }
  Target anchor = *t;
  anchor.name = other;
  anchor.qualifier.reset();
  std::vector<std::string> anchor_words(words.begin(), words.end() - 1);
  anchor_words.push_back(other);
  auto at = resolve_entry(anchor, /*create=*/false, anchor_words, anchor_words.size());
  if (!at) {
    return fail(at.error());
  }
  if (*at == *index) {
    return fail("an entry cannot move " + std::string(before ? "before" : "after") + " itself");
  }
  const YAML::Node list = t->parent[t->key];
  YAML::Node moved(YAML::NodeType::Sequence);
  for (size_t i = 0; i < list.size(); ++i) {
    if (i == *index) {
      continue;
    }
    if (i == *at && before) {
      moved.push_back(list[*index]);
    }
    moved.push_back(list[i]);
    if (i == *at && !before) {
      moved.push_back(list[*index]);
    }
  }
  t->parent[t->key] = moved;
  document = copy;
  return Ok{};
}

std::vector<std::string> value_words(const Field& f) {
  if (f.type == "boolean") {
    return {"true", "false"};
  }
  std::string_view type = f.type;
  if (type.starts_with("list of ")) {
    type.remove_prefix(8);
  }
  // "pass | drop", "lan or wan", "admin, operator or viewer": words of [a-z0-9_] only, so
  // "IPv4/IPv6 prefix" or "integer 1-255" are not mistaken for choices.
  std::vector<std::string> out;
  while (!type.empty()) {
    size_t end = type.size();
    size_t skip = 0;
    for (const std::string_view sep : {" | ", ", ", " or "}) {
      if (const size_t at = type.find(sep); at != std::string_view::npos && at < end) {
        end = at;
        skip = sep.size();
      }
    }
    const std::string_view part = type.substr(0, end);
    const bool word = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!word) {
      return {};
    }
    out.emplace_back(part);
    type.remove_prefix(std::min(type.size(), end + skip));
  }
  return out.size() >= 2 ? out : std::vector<std::string>{};
}

std::vector<NextWord> describe_next(const YAML::Node& document,
                                    const std::vector<std::string>& words, bool only_set) {
  const Schema* schema = &kDocumentSchema;
  YAML::Node node = YAML::Clone(document);
  // The candidate being described may hold anything YAML allows (`routing: 5`): a word that
  // leads through a scalar or a list leads to nothing, not to yaml-cpp's exception.
  auto member = [](const YAML::Node& parent, const std::string& key) {
    if (!parent.IsMap()) {
      return YAML::Node();
    }
    const YAML::Node child = parent[key];  // invalid (not null) when missing: test first
    return child.IsDefined() ? child : YAML::Node();
  };
  size_t i = 0;
  // The names a named map or keyed list holds, then what a new one would be.
  auto names_in = [only_set](const Field& f, std::vector<std::string> names) {
    std::vector<NextWord> out;
    out.reserve(names.size() + 1);
    for (auto& n : names) {
      out.push_back({.word = std::move(n), .type = "existing", .description = {}});
    }
    if (only_set) {
      return out;
    }
    const std::string what = f.entry_key.empty() ? std::string("name") : std::string(f.entry_key);
    out.push_back({.word = "<" + what + ">",
                   .type = std::string(f.type),
                   .description = "a new one, or one of the above"});
    return out;
  };
  while (i < words.size()) {
    const Field* f = schema->find(words[i]);
    if (f == nullptr || !f->not_supported_until.empty()) {
      return {};
    }
    const FieldKind kind = field_kind(*f);
    if (kind == FieldKind::kNamedMap) {
      if (i + 1 == words.size()) {
        std::vector<std::string> names;
        if (const YAML::Node named = member(node, words[i]); named.IsMap()) {
          for (const auto& kv : named) {
            names.push_back(kv.first.Scalar());
          }
        }
        return names_in(*f, std::move(names));
      }
      node.reset(member(member(node, words[i]), words[i + 1]));
      schema = f->children;
      i += 2;
    } else if (kind == FieldKind::kEntryList && !f->entry_key.empty()) {
      const YAML::Node list = member(node, words[i]);
      if (i + 1 == words.size()) {
        std::vector<std::string> keys;
        for (size_t k = 0; list.IsSequence() && k < list.size(); ++k) {
          const auto id = entry_id(list[k], *f);
          if (id && std::find(keys.begin(), keys.end(), id->key) == keys.end()) {
            keys.push_back(id->key);
          }
        }
        return names_in(*f, std::move(keys));
      }
      const EntryWords e = entry_words(*f, words, i + 1);
      const auto found = find_entries(list, *f, e.key, e.qualifier);
      node.reset(found.size() == 1 ? list[found[0]] : YAML::Node());
      schema = f->children;
      i = e.next;
    } else if (kind == FieldKind::kMapping && f->children != nullptr) {
      node.reset(member(node, words[i]));
      schema = f->children;
      ++i;
    } else {
      // A value comes next (or, past it, nothing).
      if (i + 1 < words.size() && kind != FieldKind::kScalarList) {
        return {};
      }
      if (only_set) {
        // What is set there: the value, or each of the list's.
        std::vector<NextWord> out;
        const YAML::Node value = member(node, words[i]);
        auto add = [&out](const YAML::Node& v) {
          if (v.IsScalar()) {
            out.push_back({.word = v.Scalar(), .type = "existing", .description = {}});
          }
        };
        if (value.IsSequence()) {
          for (const auto& v : value) {
            add(v);
          }
        } else {
          add(value);
        }
        return out;
      }
      if (auto choices = value_words(*f); !choices.empty()) {
        std::vector<NextWord> out;
        out.reserve(choices.size());
        for (auto& c : choices) {
          const bool is_default = c == f->default_value;
          out.push_back({.word = std::move(c),
                         .type = "value",
                         .description = is_default ? "(default)" : std::string()});
        }
        if (!out.empty()) {
          out.front().description = std::string(f->description) +
                                    (out.front().description.empty() ? "" : " ") +
                                    out.front().description;
        }
        return out;
      }
      return {{.word = "<value>",
               .type = std::string(f->type),
               .description = std::string(f->description) +
                              (f->default_value.empty()
                                   ? std::string()
                                   : " (default " + std::string(f->default_value) + ")")}};
    }
    if (schema == nullptr) {
      return {};
    }
  }
  std::vector<NextWord> out;
  for (const Field& f : schema->fields) {
    const YAML::Node value = member(node, std::string(f.key));
    if (f.not_supported_until.empty() && (!only_set || (value.IsDefined() && !value.IsNull()))) {
      out.push_back({.word = std::string(f.key),
                     .type = std::string(f.type),
                     .description = std::string(f.description)});
    }
  }
  return out;
}

std::vector<std::string> next_words(const YAML::Node& document,
                                    const std::vector<std::string>& words, bool only_set) {
  std::vector<std::string> out;
  for (auto& w : describe_next(document, words, only_set)) {
    if (!w.word.starts_with("<")) {
      out.push_back(std::move(w.word));
    }
  }
  return out;
}

}  // namespace vigil::config

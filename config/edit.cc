#include "config/edit.h"

#include <algorithm>

#include "config/sections.h"
#include "config/yaml_json.h"

namespace vigil::config {
namespace {

enum class Kind { kScalar, kScalarList, kMapping, kNamedMap, kEntryList };

Kind kind_of(const Field& f) {
  if (f.type.starts_with("map of ")) {
    return Kind::kNamedMap;
  }
  if (f.type.starts_with("list of ")) {
    return f.children != nullptr ? Kind::kEntryList : Kind::kScalarList;
  }
  if (f.type == "mapping") {
    return Kind::kMapping;
  }
  return Kind::kScalar;
}

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

// Where a path ends: the mapping holding the last key, that key, and what it is.
struct Target {
  YAML::Node parent;  // a mapping
  std::string key;
  const Field* field = nullptr;
  size_t next = 0;   // index of the first word after the key (and name, for named maps)
  std::string name;  // for named maps: the entry's name, when given
};

Expected<Target> walk(const YAML::Node& document, const std::vector<std::string>& words,
                      bool create) {
  const Schema* schema = &kDocumentSchema;
  YAML::Node node = document;
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
    const Kind kind = kind_of(*f);
    Target t{.parent = node, .key = words[i], .field = f, .next = i + 1};
    if (kind == Kind::kNamedMap) {
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
      schema = f->children;
      i = t.next;
      continue;
    }
    if (kind == Kind::kMapping && f->children != nullptr && i + 1 < words.size()) {
      if (!create && !node[t.key].IsMap()) {
        return fail("\"" + join(words, i + 1) + "\" does not exist");
      }
      if (create && !node[t.key].IsMap()) {
        node[t.key] = YAML::Node(YAML::NodeType::Map);
      }
      node.reset(node[t.key]);
      schema = f->children;
      ++i;
      continue;
    }
    return t;
  }
}

}  // namespace

Status set_path(YAML::Node& document, const std::vector<std::string>& words) {
  YAML::Node copy = YAML::Clone(document);  // edits go to a copy: errors change nothing
  auto t = walk(copy, words, /*create=*/true);
  if (!t) {
    return fail(t.error());
  }
  const std::vector<std::string> values(words.begin() + static_cast<long>(t->next), words.end());
  switch (kind_of(*t->field)) {
    case Kind::kScalar:
      if (values.size() != 1) {
        return fail("\"" + join(words, t->next) + "\" takes one value (" +
                    std::string(t->field->type) + ")");
      }
      t->parent[t->key] = values[0];
      break;
    case Kind::kScalarList: {
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
    case Kind::kNamedMap:
      if (t->name.empty()) {
        return fail("\"" + join(words, t->next) + "\" needs a name");
      }
      if (!t->parent[t->key].IsMap()) {
        t->parent[t->key] = YAML::Node(YAML::NodeType::Map);
      }
      if (!t->parent[t->key][t->name].IsDefined() || t->parent[t->key][t->name].IsNull()) {
        t->parent[t->key][t->name] = YAML::Node(YAML::NodeType::Map);
      }
      break;
    case Kind::kMapping:
      if (!t->parent[t->key].IsMap()) {
        t->parent[t->key] = YAML::Node(YAML::NodeType::Map);
      }
      break;
    case Kind::kEntryList:
      return fail("\"" + join(words, t->next) +
                  "\" is a list of entries: edit it in a file and `load merge` it (set cannot "
                  "address list entries yet)");
  }
  document = copy;
  return Ok{};
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
  const Kind kind = kind_of(*t->field);
  if (kind == Kind::kNamedMap && !t->name.empty()) {
    if (!t->parent[t->key].IsMap() || !t->parent[t->key][t->name].IsDefined()) {
      return fail("\"" + where + "\" does not exist");
    }
    t->parent[t->key].remove(t->name);
  } else if (kind == Kind::kScalarList && t->next < words.size()) {
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

std::vector<std::string> next_words(const YAML::Node& document,
                                    const std::vector<std::string>& words) {
  const Schema* schema = &kDocumentSchema;
  YAML::Node node = YAML::Clone(document);
  size_t i = 0;
  while (i < words.size()) {
    const Field* f = schema->find(words[i]);
    if (f == nullptr || !f->not_supported_until.empty()) {
      return {};
    }
    const Kind kind = kind_of(*f);
    if (kind == Kind::kNamedMap) {
      if (i + 1 == words.size()) {
        std::vector<std::string> names;
        if (node[words[i]].IsMap()) {
          for (const auto& kv : node[words[i]]) {
            names.push_back(kv.first.Scalar());
          }
        }
        return names;
      }
      node.reset(node[words[i]][words[i + 1]]);
      schema = f->children;
      i += 2;
    } else if (kind == Kind::kMapping && f->children != nullptr) {
      node.reset(node[words[i]]);
      schema = f->children;
      ++i;
    } else {
      return {};  // a value comes next
    }
    if (schema == nullptr) {
      return {};
    }
  }
  std::vector<std::string> out;
  for (const Field& f : schema->fields) {
    if (f.not_supported_until.empty()) {
      out.emplace_back(f.key);
    }
  }
  return out;
}

}  // namespace vigil::config

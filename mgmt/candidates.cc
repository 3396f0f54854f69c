#include "mgmt/candidates.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/yaml_file.h"
#include "config/edit.h"
#include "config/merge.h"
#include "config/merge3.h"
#include "config/sections.h"
#include "config/yaml_json.h"

namespace vigil::mgmt {

Status Candidates::check_session(const std::string& session) {
  if (session.empty() || session.size() > kMaxSessionNameBytes ||
      !std::all_of(session.begin(), session.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' ||
               ch == '.' || ch == ':';
      })) {
    return fail("session must be 1 to " + std::to_string(kMaxSessionNameBytes) +
                " letters, digits, '-', '_', '.' or ':'");
  }
  return Ok{};
}

Expected<const Candidate*> Candidates::view(const CandidateKey& key) {
  if (auto st = check_session(key.session); !st) {
    return fail(st.error());
  }
  if (const auto it = by_key_.find(key); it != by_key_.end() && it->second.modified) {
    return &it->second;
  }
  // Nothing modified: the running config, without taking a slot.
  discard(running_view_);
  return &running_view_;
}

Expected<Candidate*> Candidates::of(const CandidateKey& key) {
  if (auto st = check_session(key.session); !st) {
    return fail(st.error());
  }
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    const auto held =
        static_cast<size_t>(std::count_if(by_key_.begin(), by_key_.end(), [&](const auto& kv) {
          return kv.first.owner == key.owner;
        }));
    if (held >= kMaxPerUser) {
      return fail(key.owner + " already has " + std::to_string(held) +
                  " open candidates (the limit); commit or discard one");
    }
    if (by_key_.size() >= kMaxTotal) {
      return fail("vigild already holds " + std::to_string(by_key_.size()) +
                  " open candidates (the limit); commit or discard one");
    }
    it = by_key_.emplace(key, Candidate{}).first;
    discard(it->second);
  } else if (!it->second.modified) {
    discard(it->second);  // follows the running config until modified
  }
  return &it->second;
}

const Candidate* Candidates::find(const CandidateKey& key) const {
  const auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

Candidate* Candidates::find(const CandidateKey& key) {
  const auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

void Candidates::release_unmodified() {
  std::erase_if(by_key_, [](const auto& kv) { return !kv.second.modified; });
}

void Candidates::discard(Candidate& c) {
  auto running = store_.running();
  c = Candidate{.text = std::move(running.text), .base_seq = running.seq};
}

Expected<config::ParseResult> Candidates::load(Candidate& c, const std::string& text,
                                               const std::string& mode, const std::string& origin) {
  auto loaded = parse_load(c.text, text, mode, origin);
  if (!loaded) {
    return fail(loaded.error());
  }
  compare_with_running(*loaded, store_.running_text());
  return apply_load(c, std::move(*loaded));
}

void Candidates::compare_with_running(Loaded& loaded, const std::string& running_text) {
  auto ours = parse_yaml(loaded.candidate.text, "candidate");
  auto running = parse_yaml(running_text, "running");
  loaded.same_as_running = ours && running && config::same(*ours, *running);
}

Expected<Candidates::Loaded> Candidates::parse_load(const std::string& base,
                                                    const std::string& text,
                                                    const std::string& mode,
                                                    const std::string& origin) {
  if (mode != "replace" && mode != "merge") {
    return fail("mode must be replace or merge, got \"" + mode + "\"");
  }
  auto doc = parse_yaml(text, origin);
  if (!doc) {
    return fail(doc.error());
  }
  Loaded out;
  if (mode == "replace") {
    out.check = config::parse_document(*doc);
    out.candidate.text = text;
  } else {
    auto parsed_base = parse_yaml(base, "candidate");
    out.candidate.text = config::emit(
        config::merge(parsed_base ? *parsed_base : YAML::Node(YAML::NodeType::Map), *doc));
    // Checked from the merged text, so error positions point into what `save` writes.
    out.check = config::parse_text(out.candidate.text, "candidate");
  }
  return out;
}

config::ParseResult Candidates::apply_load(Candidate& c, Loaded loaded) {
  c.text = std::move(loaded.candidate.text);
  c.modified = !loaded.same_as_running;
  if (loaded.candidate.base_seq != 0) {
    c.base_seq = loaded.candidate.base_seq;  // an update: now made from that commit
  }
  return std::move(loaded.check);
}

Expected<config::ParseResult> Candidates::edit(Candidate& c, const std::vector<std::string>& words,
                                               bool set) {
  auto edited = parse_edit(c.text, words, set);
  if (!edited) {
    return fail(edited.error());
  }
  compare_with_running(*edited, store_.running_text());
  return apply_load(c, std::move(*edited));
}

namespace {

void add_naming_fields(const config::Schema& schema, std::set<std::string>& names) {
  for (const config::Field& f : schema.fields) {
    if (!f.entry_key.empty()) {
      names.emplace(f.entry_key);
    }
    if (!f.entry_qualifier.empty()) {
      names.emplace(f.entry_qualifier);
    }
    if (f.children != nullptr) {
      add_naming_fields(*f.children, names);
    }
  }
}

// The fields naming entries of keyed lists anywhere in the schema (prefix, distance, via...).
const std::set<std::string>& naming_fields() {
  static const std::set<std::string> names = [] {
    std::set<std::string> n;
    add_naming_fields(config::kDocumentSchema, n);
    return n;
  }();
  return names;
}

// Whether an error at `path` is about a word of the `set` that edited `edited` (a config
// path such as "routing.static[2].next_hops[0]"): the value set and what is under it, the
// names on the way (an interface's name) and the fields naming the entries on the way (a
// route's prefix and distance, typed as words of the same set).
bool typed_by_this_edit(const std::string& path, const std::string& edited) {
  auto at_boundary = [](const std::string& longer, size_t n) {
    return longer.size() == n || longer[n] == '.' || longer[n] == '[';
  };
  if (path.starts_with(edited) && at_boundary(path, edited.size())) {
    return true;  // the value set, or under it
  }
  if (edited.starts_with(path) && at_boundary(edited, path.size())) {
    return true;  // a name on the way
  }
  // The key or qualifier field of an entry on the way: "routing.static[2]" + ".prefix".
  for (size_t end = edited.find(']'); end != std::string::npos; end = edited.find(']', end + 1)) {
    const std::string entry = edited.substr(0, end + 1);
    if (path.starts_with(entry + ".") &&
        path.find_first_of(".[", entry.size() + 1) == std::string::npos &&
        naming_fields().contains(path.substr(entry.size() + 1))) {
      return true;
    }
  }
  return false;
}

}  // namespace

Expected<Candidates::Loaded> Candidates::parse_edit(const std::string& base,
                                                    const std::vector<std::string>& words,
                                                    bool set) {
  auto doc = parse_yaml(base, "candidate");
  if (!doc) {
    return fail("the candidate is not valid YAML; load a file: " + doc.error());
  }
  YAML::Node edited = *doc;
  std::string edited_path;
  if (set) {
    auto path = config::set_path(edited, words);
    if (!path) {
      return fail(path.error());
    }
    edited_path = std::move(*path);
  } else if (auto st = config::delete_path(edited, words); !st) {
    return fail(st.error());
  }
  Loaded out;
  // Edits give canonical YAML: comments and layout of a loaded file do not survive.
  out.candidate.text = config::emit(edited);
  out.check = config::parse_text(out.candidate.text, "candidate");
  // A value that does not fit its type is refused now, by its path; what it leaves missing or
  // in conflict with other values waits for `commit check`.
  if (set) {
    std::string refused;
    for (const auto& e : out.check.errors.errors()) {
      if (e.value_error && typed_by_this_edit(e.path, edited_path)) {
        refused += (refused.empty() ? "" : "\n") + e.path + ": " + e.message;
      }
    }
    if (!refused.empty()) {
      return fail(refused);
    }
  }
  return out;
}

Expected<Candidates::Loaded> Candidates::parse_insert(const std::string& base,
                                                      const std::vector<std::string>& words,
                                                      bool before, const std::string& other) {
  auto doc = parse_yaml(base, "candidate");
  if (!doc) {
    return fail("the candidate is not valid YAML; load a file: " + doc.error());
  }
  YAML::Node edited = *doc;
  if (auto st = config::insert_path(edited, words, before, other); !st) {
    return fail(st.error());
  }
  Loaded out;
  out.candidate.text = config::emit(edited);
  out.check = config::parse_text(out.candidate.text, "candidate");
  return out;
}

Expected<Candidates::Loaded> Candidates::parse_update(const std::string& base,
                                                      const std::string& running,
                                                      const std::string& ours,
                                                      uint64_t running_seq) {
  auto base_doc = parse_yaml(base, "base");
  auto running_doc = parse_yaml(running, "running");
  auto our_doc = parse_yaml(ours, "candidate");
  if (!base_doc || !running_doc || !our_doc) {
    return fail("cannot read the configs to merge: " + (!base_doc      ? base_doc.error()
                                                        : !running_doc ? running_doc.error()
                                                                       : our_doc.error()));
  }
  const config::Merge3 m = config::merge3(*base_doc, *our_doc, *running_doc);
  if (!m.conflicts.empty()) {
    std::string paths;
    for (const auto& p : m.conflicts) {
      paths += "\n  " + p;
    }
    return fail(std::string(kConflict) +
                "you and the commits since your candidate was made both changed these, "
                "differently; nothing was merged:" +
                paths +
                "\nMake them agree in your candidate (or `vigil discard` and start again from "
                "running), then `vigil update` again.");
  }
  Loaded out;
  out.candidate.text = config::emit(m.merged);
  out.candidate.base_seq = running_seq;
  out.check = config::parse_text(out.candidate.text, "candidate");
  return out;
}

Expected<uint64_t> Candidates::rollback(Candidate& c, size_t n) {
  auto seq = store_.seq_of_rollback(n);
  if (!seq) {
    return fail(seq.error());
  }
  auto text = store_.text_of(*seq);
  if (!text) {
    return fail(text.error());
  }
  auto running = store_.running();
  c = Candidate{.text = *text, .modified = *text != running.text, .base_seq = running.seq};
  return *seq;
}

std::vector<std::string> Candidates::complete(const Candidate& c,
                                              const std::vector<std::string>& words,
                                              bool only_set) {
  auto doc = parse_yaml(c.text, "candidate");
  return config::next_words(doc ? *doc : YAML::Node(YAML::NodeType::Map), words, only_set);
}

std::vector<config::NextWord> Candidates::describe(const Candidate& c,
                                                   const std::vector<std::string>& words,
                                                   bool only_set) {
  auto doc = parse_yaml(c.text, "candidate");
  return config::describe_next(doc ? *doc : YAML::Node(YAML::NodeType::Map), words, only_set);
}

}  // namespace vigil::mgmt

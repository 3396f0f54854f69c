#include "config/reference.h"

#include <set>

#include "config/sections.h"

namespace vigil::config {
namespace {

std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  }
  return out;
}

void emit(const Schema& schema, std::string& out, std::set<const Schema*>& done) {
  if (!done.insert(&schema).second) {
    return;
  }
  out += "## `" + std::string(schema.path) + "`\n\n" + std::string(schema.description) + "\n\n";
  out += "| key | type | default | description |\n|---|---|---|---|\n";
  for (const Field& f : schema.fields) {
    std::string def = f.required                ? "required"
                      : f.default_value.empty() ? ""
                                                : std::string(f.default_value);
    std::string desc(f.description);
    if (!f.not_supported_until.empty()) {
      desc += ". **Not supported yet**: rejected until " + std::string(f.not_supported_until);
    }
    if (!f.entry_key.empty()) {
      desc += (desc.empty() ? "" : ". ") + std::string("Entries are named by `") +
              std::string(f.entry_key) + "`" +
              (f.entry_qualifier.empty() ? std::string()
                                         : " and `" + std::string(f.entry_qualifier) + "`") +
              " (`set`, `delete`, `load merge`)";
    }
    out += "| `" + std::string(f.key) + "` | " + cell(f.type) + " | " + cell(def) + " | " +
           cell(desc) + " |\n";
  }
  out += "\n";
  for (const Field& f : schema.fields) {
    if (f.children != nullptr) {
      emit(*f.children, out, done);
    }
  }
}

}  // namespace

std::string config_reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "<!-- Generated from the schema in config/ by "
      "`build/config/vigil-config-reference`."
      " Do not edit by hand. -->\n\n"
      "Vigil's configuration is one YAML document, `/etc/vigil/vigil.yaml` by default. Every key "
      "below is checked: an unknown key, a value of the wrong type or range, a dangling reference "
      "or a conflict is rejected with its path, line and column, for example\n\n"
      "```\nrouting.static[3].next_hops[0].interface (41:22): no interface named \"wan3\"\n```\n\n"
      "and nothing of a rejected document is applied. Sections marked *not supported yet* are "
      "reserved for components that do not exist in this build; using them is an error, never "
      "silently ignored.\n\n";
  std::set<const Schema*> done;
  emit(kDocumentSchema, out, done);
  return out;
}

}  // namespace vigil::config

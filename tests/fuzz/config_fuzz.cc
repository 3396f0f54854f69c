// Fuzzes the config reader as vigild meets an operator's file: YAML with bounded size, depth
// and alias expansion, then the whole schema's validation, then what `load merge`, `compare`,
// completion and the commit's deltas do with a document that parsed. Crashes, sanitizer
// reports, hangs (libFuzzer's -timeout) and memory blow-ups (-rss_limit_mb) are bugs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/yaml_file.h"
#include "config/document.h"
#include "config/edit.h"
#include "config/merge.h"
#include "config/set_commands.h"
#include "config/yaml_json.h"

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const vigil::config::ParseResult checked = vigil::config::parse_text(text, "fuzz.yaml");
  (void)checked.errors.to_string();
  auto doc = vigil::parse_yaml(text, "fuzz.yaml");
  if (!doc) {
    return 0;
  }
  (void)vigil::config::to_json(*doc);
  const YAML::Node merged = vigil::config::merge(*doc, *doc);
  (void)vigil::config::emit(merged);
  (void)vigil::config::same(*doc, merged);
  (void)vigil::config::next_words(*doc, {"interfaces"});
  (void)vigil::config::next_words(*doc, {"filter", "acl"});
  (void)vigil::config::next_words(*doc, {"routing", "static", "0.0.0.0/0", "distance", "5"});
  (void)vigil::config::next_words(*doc, {"filter", "acl", "a"}, /*only_set=*/true);
  (void)vigil::config::set_commands(*doc);
  (void)vigil::config::subtree(*doc, {"routing", "static", "0.0.0.0/0", "next_hops"});
  (void)vigil::config::subtree(*doc, {"interfaces", "lan0", "addresses", "10.0.0.1/24"});
  YAML::Node edited = YAML::Clone(*doc);
  (void)vigil::config::set_path(edited,
                                {"routing", "static", "0.0.0.0/0", "next_hops", "10.0.0.1"});
  (void)vigil::config::set_path(edited, {"filter", "acl", "a", "action", "deny"});
  (void)vigil::config::insert_path(edited, {"filter", "acl", "a"}, true, "b");
  (void)vigil::config::delete_path(edited, {"routing", "static", "0.0.0.0/0"});
  return 0;
}

// `set`, `delete` and `insert` on a config document, word by word along the schema, as the
// CLI types them:
//   set interfaces lan0 mtu 9000
//   set interfaces lan0 addresses 10.1.1.1/24          (a list of values gains the value)
//   set routing static 10.9.0.0/16 next_hops 198.18.1.1 (entries by their key, made if new)
//   set routing static 0.0.0.0/0 distance 10 next_hops 198.18.2.1
//   delete filter acl deny-attacker
//   insert filter acl deny-doc before allow-all        (order-sensitive lists)
// Entries of a keyed list (schema.h's entry_key) are addressed by their key's value; a list
// with a qualifier (static routes: distance) takes `<qualifier> <value>` after the key to tell
// entries of the same key apart. Also what may come next, for completion.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/expected.h"
#include "config/schema.h"

namespace vigil::config {

// Edits `document` in place. Errors say which word is wrong and what was expected there;
// on error the document is unchanged. set_path returns the path of what it set, as config
// errors name paths ("routing.static[2].next_hops[0]"), so a caller can tell the errors
// this edit caused from others.
Expected<std::string> set_path(YAML::Node& document, const std::vector<std::string>& words);
Status delete_path(YAML::Node& document, const std::vector<std::string>& words);
// Moves the entry `words` names to just before or after the entry `other` of the same list.
Status insert_path(YAML::Node& document, const std::vector<std::string>& words, bool before,
                   const std::string& other);

// What may follow `words`, for `?`: keys of the schema with their types, the names present in
// the document (type "existing") and "<name>" for a new one, or "<value>" with the value's
// type where a value comes next.
struct NextWord {
  std::string word;
  std::string type;
  std::string description;
};
// Where a value of a fixed set comes next (an enum, a boolean), those values (type "value").
// With `only_set`, for `delete`: only what the document holds there (names, keys, values).
std::vector<NextWord> describe_next(const YAML::Node& document,
                                    const std::vector<std::string>& words, bool only_set = false);

// Words that may follow `words` (keys of the schema, names present in the document, values of
// a fixed set), for completion: describe_next without the placeholders.
std::vector<std::string> next_words(const YAML::Node& document,
                                    const std::vector<std::string>& words, bool only_set = false);

// The values a field's type allows when they are a fixed set ("pass | drop", "lan or wan",
// "boolean"), read from its type; empty when any value of a kind goes.
std::vector<std::string> value_words(const Field& f);

}  // namespace vigil::config

// `set` and `delete` on a config document, word by word along the schema, as the CLI types
// them: `set interfaces lan0 mtu 9000`, `set interfaces lan0 addresses 10.1.1.1/24` (lists
// gain the value), `delete interfaces lan0 vlans`. Also what may come next, for completion.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil::config {

// Edits `document` in place. Errors say which word is wrong and what was expected there;
// on error the document is unchanged.
Status set_path(YAML::Node& document, const std::vector<std::string>& words);
Status delete_path(YAML::Node& document, const std::vector<std::string>& words);

// Words that may follow `words` (keys of the schema, or names present in the document).
std::vector<std::string> next_words(const YAML::Node& document,
                                    const std::vector<std::string>& words);

}  // namespace vigil::config

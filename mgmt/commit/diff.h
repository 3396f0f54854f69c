// Unified diffs between config texts, for `vigil compare` and `show | compare`.
#pragma once

#include <string>

namespace vigil::mgmt::commit {

// "" when the texts are equal; otherwise "--- from_name\n+++ to_name\n@@ ... @@\n...".
std::string unified_diff(const std::string& from, const std::string& to,
                         const std::string& from_name, const std::string& to_name);

}  // namespace vigil::mgmt::commit

// Parses JSON from an untrusted peer or file with its nesting bounded before anything
// recursive touches it: nlohmann's copy, comparison and dump recurse once per level, so a
// 150 KB line of "[[[[..." would otherwise overflow the stack of whoever handles it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/expected.h"

namespace vigil {

// Deeper than any request, answer or state file Vigil writes (a config delta nests ~8).
inline constexpr size_t kMaxJsonDepth = 64;

// The document, or an error naming the limit ("nesting deeper than 64 levels at byte 65")
// or the syntax error's position, counting bytes from 1.
Expected<nlohmann::json> parse_json_bounded(std::string_view text,
                                            size_t max_depth = kMaxJsonDepth);

}  // namespace vigil

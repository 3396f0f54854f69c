#include "common/json_bounded.h"

#include <optional>
#include <string>

namespace vigil {
namespace {

// The 0-based offset of the bracket that goes deeper than `max_depth`. Depth of arrays and objects,
// ignoring brackets inside strings. A syntax error is left to the parser: this only has to be right
// for text that would parse.
std::optional<size_t> first_byte_too_deep(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return i;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) {
          --depth;
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<nlohmann::json> parse_json_bounded(std::string_view text, size_t max_depth) {
  if (const auto at = first_byte_too_deep(text, max_depth)) {
    return fail("nesting deeper than " + std::to_string(max_depth) + " levels at byte " +
                std::to_string(*at + 1));
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail("not valid JSON at byte " + std::to_string(e.byte));  // 1-based, as above
  } catch (const nlohmann::json::out_of_range&) {
    // A number too large for a double ("1e999"): the parser throws this rather than a
    // parse_error, and it must not escape to whoever reads a peer's line (the json_rpc fuzz
    // target found it taking vigild down).
    return fail("not valid JSON: a number is out of range");
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("not valid JSON: ") + e.what());
  }
}

}  // namespace vigil

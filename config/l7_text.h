// The text checks of the l7 section's values: what the proxy sends or compares must be what
// HTTP allows there, so nothing in the config can break a request's lines.
#pragma once

#include <string_view>

namespace vigil::config {

// RFC 9110 5.6.2: a field name or a method.
bool is_token(std::string_view s);
// A field value: visible characters, spaces and tabs, at most 4096 bytes.
bool is_field_value(std::string_view s);
// "www.example.com" or "*.example.com".
bool is_route_host(std::string_view s);
// "/api": absolute, no query, fragment, space or backslash.
bool is_path(std::string_view s);

}  // namespace vigil::config

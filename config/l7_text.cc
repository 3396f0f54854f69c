#include "config/l7_text.h"

namespace vigil::config {

// RFC 9110 5.6.2: a field name or a method.
bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 256) {
    return false;
  }
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

// A field value the proxy sends or compares: visible characters, spaces and tabs only, so no
// value in the config can end a line and start another field.
bool is_field_value(std::string_view s) {
  if (s.size() > 4096) {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return false;
    }
  }
  return true;
}

// "www.example.com" or "*.example.com": letters, digits, '-' and '.', any case.
bool is_route_host(std::string_view s) {
  if (s.starts_with("*.")) {
    s.remove_prefix(2);
  }
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') {
    return false;
  }
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_')) {
      return false;
    }
  }
  return s.find("..") == std::string_view::npos;
}

bool is_path(std::string_view s) {
  if (s.empty() || s.front() != '/' || s.size() > 4096) {
    return false;
  }
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#' || c == '?' || c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace vigil::config

#include "l7proxy/routing/request_view.h"

#include <cstdint>

namespace vigil::l7 {
namespace {

using http1::hex_value;

// How many dots a segment ("/..", "..", "/%2e%2E", "/..;v=1") is made of: 1 or 2 for a dot
// segment, 0 otherwise. %2e counts as a dot, and parameters after ";" are not part of it:
// servers that decode, or that strip path parameters, before they resolve would see one.
int dots(std::string_view segment) {
  if (!segment.empty() && segment.front() == '/') {
    segment.remove_prefix(1);
  }
  segment = segment.substr(0, segment.find(';'));
  int n = 0;
  while (!segment.empty() && n < 3) {
    if (segment.front() == '.') {
      segment.remove_prefix(1);
    } else if (segment.size() >= 3 && segment[0] == '%' && segment[1] == '2' &&
               (segment[2] == 'e' || segment[2] == 'E')) {
      segment.remove_prefix(3);
    } else {
      return 0;
    }
    ++n;
  }
  return n <= 2 ? n : 0;
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool starts_with_scheme(std::string_view target, std::string_view scheme) {
  return target.size() > scheme.size() && http1::iequals(target.substr(0, scheme.size()), scheme);
}

}  // namespace

std::string normalize_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = close == std::string_view::npos ? std::string_view() : host.substr(0, close + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  std::string out(host);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool valid_authority(std::string_view a) {
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close < 3) {
      return false;
    }
    for (const char c : a.substr(1, close - 1)) {
      if (hex_value(c) < 0 && c != ':' && c != '.') {
        return false;
      }
    }
    const std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return false;
    }
    port = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port.empty()) {
      return false;
    }
  } else {
    const size_t colon = a.find(':');
    const std::string_view name = a.substr(0, colon);
    for (const char c : name) {
      if (!unreserved(c)) {
        return false;
      }
    }
    if (colon != std::string_view::npos) {
      port = a.substr(colon + 1);
      if (name.empty() || port.empty()) {
        return false;
      }
    }
  }
  if (port.size() > 5) {
    return false;
  }
  uint32_t n = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') {
      return false;
    }
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  return n <= 65535;
}

std::string remove_dot_segments(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  // Each segment with the "/" before it; out never loses its leading "/".
  while (!path.empty()) {
    size_t end = path.find('/', 1);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view segment = path.substr(0, end);  // "/name"
    path.remove_prefix(end);
    const int d = dots(segment);
    if (d == 1) {
      if (path.empty()) {
        out += '/';
      }
    } else if (d == 2) {
      const size_t last = out.rfind('/');
      out.resize(last == std::string::npos ? 0 : last);
      if (path.empty()) {
        out += '/';
      }
    } else {
      out.append(segment);
    }
  }
  if (out.empty() || out.front() != '/') {
    return "/" + out;
  }
  return out;
}

std::optional<std::string> normalize_path(std::string_view raw, std::string_view& error) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' || c == '#') {
      error = "a backslash or # in the path";
      return std::nullopt;
    }
    if (c == '/' && !decoded.empty() && decoded.back() == '/') {
      continue;  // "//" is "/", as servers that merge slashes read it
    }
    if (c != '%') {
      decoded += c;
      continue;
    }
    const int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(raw[i + 2]) : -1;
    if (lo < 0) {
      error = "a % in the path that is not an escape";
      return std::nullopt;
    }
    const char v = static_cast<char>(hi * 16 + lo);
    if (v == '\0' || v == '/' || v == '\\') {
      error = "an encoded NUL, slash or backslash in the path";
      return std::nullopt;
    }
    i += 2;
    if (unreserved(v)) {
      decoded += v;  // the same character either way (RFC 3986 6.2.2.2)
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      decoded += '%';
      decoded += kHex[hi];
      decoded += kHex[lo];
    }
  }
  return remove_dot_segments(decoded);
}

RequestView RequestView::from(const http1::RequestHead& head) {
  RequestView v;
  v.method = head.method;
  v.headers = head.headers;
  const auto refuse = [&](int status, std::string_view why) {
    v.refuse_status = status;
    v.error = why;
    return v;
  };
  if (head.method == "CONNECT") {
    return refuse(501, "CONNECT is not proxied here");
  }
  std::string_view target = head.target;
  bool absolute = false;
  if (target.empty()) {
    return refuse(400, "an empty request target");  // HTTP/2's :path of a scheme not http(s)
  }
  if (target == "*") {
    if (head.method != "OPTIONS") {
      return refuse(400, "the target * is only for OPTIONS");
    }
    v.path.push_back('*');  // not = "*": GCC 12 warns of a memcpy overlap (its bug 105329)
    target = {};
  } else if (target.front() != '/') {
    // absolute-form, http or https only (RFC 9112 3.2.2): its authority is the host.
    const size_t scheme = starts_with_scheme(target, "http://")    ? 7
                          : starts_with_scheme(target, "https://") ? 8
                                                                   : 0;
    if (scheme == 0) {
      return refuse(400, "a request target that is neither a path nor an http(s) URI");
    }
    const std::string_view rest = target.substr(scheme);
    const size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    if (authority.empty() || authority.find('@') != std::string_view::npos ||
        !valid_authority(authority)) {
      return refuse(400, "the target's authority is not host[:port]");
    }
    v.authority = std::string(authority);
    absolute = true;
    target = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
    if (target.front() == '?') {
      v.query = target.substr(1);
      target = "/";
    }
  }
  if (!target.empty()) {
    const size_t q = target.find('?');
    std::string_view error;
    auto path = normalize_path(target.substr(0, q), error);
    if (!path) {
      return refuse(400, error);
    }
    v.path = std::move(*path);
    if (q != std::string_view::npos) {
      v.query = target.substr(q + 1);
    }
  }
  if (!absolute) {
    for (const http1::Header& h : head.headers) {
      if (http1::iequals(h.name, "host")) {
        if (!valid_authority(h.value)) {
          return refuse(400, "the Host field is not host[:port]");
        }
        v.authority = std::string(h.value);
        break;
      }
    }
  }
  v.host = normalize_host(v.authority);
  return v;
}

}  // namespace vigil::l7

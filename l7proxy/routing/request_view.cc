#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {
namespace {

// How many dots a segment ("/..", "..", "/%2e%2E") is made of: 1 or 2 for a dot segment, 0
// otherwise. %2e counts as a dot: servers that decode before they resolve would see one.
int dots(std::string_view segment) {
  if (!segment.empty() && segment.front() == '/') {
    segment.remove_prefix(1);
  }
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

}  // namespace

std::string normalize_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);  // [v6]:port -> [v6]
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

RequestView RequestView::from(const http1::RequestHead& head) {
  RequestView v;
  v.method = head.method;
  v.headers = head.headers;
  std::string_view target = head.target;
  if (target == "*") {
    v.path.push_back('*');  // not = "*": GCC 12 warns of a memcpy overlap (its bug 105329)
  } else {
    // absolute-form (a request to a proxy): its authority is the host (RFC 9112 3.2.2).
    if (const size_t scheme = target.find("://");
        scheme != std::string_view::npos && target.front() != '/') {
      const std::string_view rest = target.substr(scheme + 3);
      const size_t slash = rest.find_first_of("/?");
      const std::string_view authority = rest.substr(0, slash);
      v.host = normalize_host(authority.substr(authority.find('@') + 1));
      target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    const size_t q = target.find('?');
    v.path = remove_dot_segments(target.substr(0, q));
    if (q != std::string_view::npos) {
      v.query = target.substr(q + 1);
    }
  }
  if (v.host.empty()) {
    for (const http1::Header& h : head.headers) {
      if (http1::iequals(h.name, "host")) {
        v.host = normalize_host(h.value);
        break;
      }
    }
  }
  return v;
}

}  // namespace vigil::l7

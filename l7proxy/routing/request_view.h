// What routing looks at in a request, whichever protocol brought it: the host (without its
// port, lower-cased), the path with its dot segments removed (so "/a/../admin" is matched as
// "/admin", the path the upstream will serve), the query, the method and the fields.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "l7proxy/http1/message_head.h"

namespace vigil::l7 {

struct RequestView {
  std::string host;  // lower case, no port, no trailing dot; "" when the request names none
  std::string path;  // begins with "/" ("*" for OPTIONS *)
  std::string_view query;
  std::string_view method;
  std::span<const http1::Header> headers;

  // From an HTTP/1 head: the host from an absolute-form target, else the Host field.
  static RequestView from(const http1::RequestHead& head);
};

// "Example.COM:8443." -> "example.com"; a bracketed IPv6 literal keeps its brackets.
std::string normalize_host(std::string_view host);
// RFC 3986 5.2.4 on a path: "." and ".." segments (also written %2e) resolved, never above
// the root.
std::string remove_dot_segments(std::string_view path);

}  // namespace vigil::l7

// What routing looks at in a request, whichever protocol brought it, and what the upstream is
// then sent, so the two never differ: the host (lower case, no port) and the authority as
// named (host[:port], sent on as Host), the path normalised (percent-encoded unreserved
// characters decoded, "//" merged, "." and ".." segments resolved, also as "%2e" or with
// ";params"), the query, the method and the fields. What could be read two ways is refused
// rather than normalised: an encoded slash or backslash, %00, a bad escape, a backslash or
// "#", userinfo, a target in any form but a path, an http(s) URI or OPTIONS' "*", a Host that
// is not host[:port], CONNECT.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "l7proxy/http1/message_head.h"

namespace vigil::l7 {

struct RequestView {
  std::string host;       // lower case, no port, no trailing dot; "" when the request names none
  std::string authority;  // host[:port] as the request named it: the upstream's Host
  std::string path;       // normalised; begins with "/" ("*" for OPTIONS *)
  std::string_view query;
  std::string_view method;
  std::span<const http1::Header> headers;
  int refuse_status = 0;   // not 0: answer it (400, 501) and route nothing
  std::string_view error;  // why, for the log

  // From an HTTP/1 head: the authority from an absolute-form target, else the Host field.
  static RequestView from(const http1::RequestHead& head);
};

// "Example.COM:8443." -> "example.com"; a bracketed IPv6 literal keeps its brackets.
std::string normalize_host(std::string_view host);
// uri-host [":" port] with a name of letters, digits, "-", ".", "_" and "~", or an IP literal
// in brackets; empty is valid (a Host of nothing).
bool valid_authority(std::string_view authority);
// RFC 3986 5.2.4 on a path: "." and ".." segments (also "%2e", also followed by ";params")
// resolved, never above the root.
std::string remove_dot_segments(std::string_view path);
// The path as routed and sent on (see above), or nothing with `error` set.
std::optional<std::string> normalize_path(std::string_view raw, std::string_view& error);

}  // namespace vigil::l7

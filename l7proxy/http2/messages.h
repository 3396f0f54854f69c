// A request's and a response's head as HTTP/2 carries them (RFC 9113 8.3): the pseudo-header
// fields apart, the regular fields in lower case. Both sides of a connection use them.
#pragma once

#include <string>
#include <vector>

namespace vigil::l7::http2 {

struct Header {
  std::string name;  // lower case (HTTP/2 allows no other)
  std::string value;
};

struct RequestHead {
  std::string method;
  std::string scheme;
  std::string authority;  // "" when the client sent none (then a host field may say it)
  std::string path;
  std::vector<Header> headers;  // the regular fields, cookies joined into one (RFC 9113 8.2.3)
  bool end_stream = false;      // no body follows
};

struct ResponseHead {
  int status = 0;  // 200-599: informational responses are not passed on
  std::vector<Header> headers;
  bool end_stream = false;  // no body follows
};

}  // namespace vigil::l7::http2

// How an HTTP/1.x message's body is delimited (RFC 9112 section 6) and what its head asks of
// the connection. Two parties that disagree on where a body ends are how requests are
// smuggled, so every head whose framing could be read two ways is refused: Content-Length
// with Transfer-Encoding, Content-Length given twice or not a plain number, a transfer coding
// other than chunked alone, a request without exactly one Host in HTTP/1.1.
#pragma once

#include <cstdint>
#include <string_view>

#include "l7proxy/http1/message_head.h"

namespace vigil::l7::http1 {

enum class Body {
  kNone,
  kLength,      // `length` bytes
  kChunked,     // chunked.h decodes it
  kUntilClose,  // a response without either: the body ends with the connection
};

struct Framing {
  Body body = Body::kNone;
  uint64_t length = 0;
  bool keep_alive = true;  // the connection may carry another message after this one
  bool expect_continue = false;
  bool upgrade = false;  // Connection: upgrade with an Upgrade field (a WebSocket, say)
};

struct FramingResult {
  bool ok = false;
  Framing framing;
  int status = 0;  // when not ok: 400, 413, 417 or 501 for a request; 502 for a response
  std::string_view error;
};

// `max_body`: the largest Content-Length taken (413 past it).
FramingResult request_framing(const RequestHead& head, uint64_t max_body);
// `request_method`: the request it answers (a HEAD's response has no body); `upgrade_asked`:
// the request's framing.upgrade (a 101 to any other is a 502).
FramingResult response_framing(const ResponseHead& head, std::string_view request_method,
                               bool upgrade_asked = false);

}  // namespace vigil::l7::http1

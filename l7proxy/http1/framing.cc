#include "l7proxy/http1/framing.h"

#include <vector>

namespace vigil::l7::http1 {
namespace {

// What the framing fields of a head say, gathered once.
struct Fields {
  int hosts = 0;
  int content_lengths = 0;
  std::string_view content_length;
  int transfer_encodings = 0;
  std::string_view transfer_encoding;
  bool close = false, keep_alive = false, connection_upgrade = false;
  bool upgrade = false;
  int expects = 0;
  std::string_view expect;
};

// Each element of a comma-separated list, trimmed; empty elements skipped (RFC 9110 5.6.1).
template <typename F>
void for_each_element(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) {
      f(element);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
}

Fields gather(const std::vector<Header>& headers) {
  Fields f;
  for (const Header& h : headers) {
    if (iequals(h.name, "host")) {
      ++f.hosts;
    } else if (iequals(h.name, "content-length")) {
      ++f.content_lengths;
      f.content_length = h.value;
    } else if (iequals(h.name, "transfer-encoding")) {
      ++f.transfer_encodings;
      f.transfer_encoding = h.value;
    } else if (iequals(h.name, "connection")) {
      for_each_element(h.value, [&](std::string_view option) {
        f.close |= iequals(option, "close");
        f.keep_alive |= iequals(option, "keep-alive");
        f.connection_upgrade |= iequals(option, "upgrade");
      });
    } else if (iequals(h.name, "upgrade")) {
      // The one upgrade passed on: a WebSocket. Anything else (h2c, say) would open a tunnel
      // past every route, so it is dropped with the other hop-by-hop fields.
      f.upgrade = iequals(h.value, "websocket");
    } else if (iequals(h.name, "expect")) {
      ++f.expects;
      f.expect = h.value;
    }
  }
  return f;
}

// 1*DIGIT, at most 19 of them (no sign, no space, no list: "5, 5" is refused too).
bool parse_length(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 19) {
    return false;
  }
  out = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// Transfer-Encoding naming chunked alone (the one coding this proxy decodes).
bool chunked_alone(const Fields& f) {
  int codings = 0;
  bool chunked = false;
  for_each_element(f.transfer_encoding, [&](std::string_view coding) {
    ++codings;
    chunked = iequals(coding, "chunked");
  });
  return f.transfer_encodings == 1 && codings == 1 && chunked;
}

FramingResult refuse(int status, std::string_view why) {
  return {.ok = false, .status = status, .error = why};
}

bool keep_alive(const Fields& f, int minor_version) {
  return !f.close && (minor_version == 1 || f.keep_alive);
}

// The body as Content-Length or chunked say, both directions alike. `bad`: the status for a
// head framed two ways or wrongly (400 a request's, 502 a response's); `unsupported` for a
// coding other than chunked alone (501, 502). Neither field: no body (the caller decides
// what that means for a response).
FramingResult frame_body(const Fields& f, int bad, int unsupported) {
  FramingResult r{.ok = true};
  if (f.transfer_encodings > 0) {
    if (f.content_lengths > 0) {
      return refuse(bad, "Content-Length and Transfer-Encoding together");
    }
    if (!chunked_alone(f)) {
      return refuse(unsupported, "a transfer coding other than chunked alone");
    }
    r.framing.body = Body::kChunked;
  } else if (f.content_lengths > 1) {
    return refuse(bad, "Content-Length given more than once");
  } else if (f.content_lengths == 1) {
    if (!parse_length(f.content_length, r.framing.length)) {
      return refuse(bad, "a Content-Length that is not a plain number");
    }
    r.framing.body = r.framing.length > 0 ? Body::kLength : Body::kNone;
  }
  return r;
}

}  // namespace

FramingResult request_framing(const RequestHead& head, uint64_t max_body) {
  const Fields f = gather(head.headers);
  if (head.minor_version == 1 ? f.hosts != 1 : f.hosts > 1) {
    return refuse(400, "an HTTP/1.1 request needs exactly one Host field");
  }
  if (f.transfer_encodings > 0 && f.content_lengths == 0 && head.minor_version == 0) {
    return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  FramingResult r = frame_body(f, 400, 501);
  if (!r.ok) {
    return r;
  }
  if (r.framing.body == Body::kLength && r.framing.length > max_body) {
    return refuse(413, "a body longer than the limit");
  }
  if (f.expects > 0) {
    if (f.expects > 1 || !iequals(f.expect, "100-continue")) {
      return refuse(417, "an expectation other than 100-continue");
    }
    // An HTTP/1.0 client cannot wait for a 100 (RFC 9110 10.1.1): ignored.
    r.framing.expect_continue = head.minor_version == 1;
  }
  r.framing.keep_alive = keep_alive(f, head.minor_version);
  r.framing.upgrade = f.connection_upgrade && f.upgrade && head.minor_version == 1;
  return r;
}

FramingResult response_framing(const ResponseHead& head, std::string_view request_method,
                               bool upgrade_asked) {
  const Fields f = gather(head.headers);
  FramingResult r{.ok = true};
  if (head.status == 101 && !upgrade_asked) {
    return refuse(502, "the upstream switched protocols unasked");
  }
  // No body, whatever the fields say (RFC 9112 6.3, rules 1 and 2). Methods are case-sensitive:
  // "head" is not HEAD, and its response has a body to read.
  const bool bodiless =
      request_method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304;
  if (!bodiless) {
    r = frame_body(f, 502, 502);
    if (!r.ok) {
      return r;
    }
  }
  // An HTTP/1.0 message with Transfer-Encoding is faulty (RFC 9112 6.1): not reused after it.
  r.framing.keep_alive =
      keep_alive(f, head.minor_version) && (head.minor_version == 1 || f.transfer_encodings == 0);
  r.framing.upgrade = head.status == 101;
  if (!bodiless && r.framing.body == Body::kNone && f.content_lengths == 0) {
    r.framing.body = Body::kUntilClose;  // neither field: the body ends with the connection
    r.framing.keep_alive = false;
  }
  return r;
}

}  // namespace vigil::l7::http1

// An HTTP/1.x message head (RFC 9112 sections 2-5): the request line or status line and the
// header fields, parsed from bytes that arrived, strictly. What a lenient parser lets through
// is where request smuggling lives (a bare LF one side takes for a line end and the other does
// not, a field folded over two lines, a space before the colon), so anything the grammar does
// not allow is an error with the status to answer, never a guess. Views point into the bytes
// given: the caller keeps them until it is done with the head. No allocation once the header
// vector has grown to its most.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vigil::l7::http1 {

struct Limits {
  size_t max_head_bytes = size_t{64} * 1024;  // request line or status line and fields, with CRLFs
  size_t max_headers = 100;
  size_t max_target_bytes = size_t{8} * 1024;  // the request target (the URI)
};

struct Header {
  std::string_view name;   // as sent: compare with iequals()
  std::string_view value;  // without the whitespace around it
};

struct RequestHead {
  std::string_view method;
  std::string_view target;
  int minor_version = 1;  // HTTP/1.0 or HTTP/1.1
  std::vector<Header> headers;
};

struct ResponseHead {
  int minor_version = 1;
  int status = 0;  // 100-999
  std::string_view reason;
  std::vector<Header> headers;
};

enum class Parsed {
  kComplete,    // the head is whole: `consumed` bytes of it
  kIncomplete,  // more bytes needed (nothing wrong so far, and under the limits)
  kError,       // answer `status` and close
};

struct ParseResult {
  Parsed outcome = Parsed::kIncomplete;
  size_t consumed = 0;
  int status = 0;          // for kError: 400, 414, 431, 501 or 505 (502 for a response)
  std::string_view error;  // what was wrong, for the log (never the bytes themselves)
};

ParseResult parse_request_head(std::span<const char> bytes, const Limits& limits, RequestHead& out);
ParseResult parse_response_head(std::span<const char> bytes, const Limits& limits,
                                ResponseHead& out);

// ASCII case-insensitive equality, as field names and tokens compare.
bool iequals(std::string_view a, std::string_view b);
// A hex digit's value (either case), -1 for anything else: chunk sizes and percent escapes.
int hex_value(char c);
// Without the spaces and tabs at either end (OWS).
std::string_view trim_ows(std::string_view s);

}  // namespace vigil::l7::http1

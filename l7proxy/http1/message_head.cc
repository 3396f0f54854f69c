#include "l7proxy/http1/message_head.h"

#include <array>

namespace vigil::l7::http1 {
namespace {

// tchar (RFC 9110 5.6.2): what a method and a field name are made of.
constexpr std::array<bool, 256> kToken = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) {
    t[c] = true;
  }
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = true;
    t[c - 'a' + 'A'] = true;
  }
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}();

bool token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (!kToken[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

// field-vchar, SP and HTAB (obs-text included: bytes past 0x7f pass as they are).
bool field_value(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      return false;
    }
  }
  return true;
}

// The lines of a head, each ending in CRLF and nothing else.
class Lines {
 public:
  Lines(std::span<const char> bytes, size_t limit)
      : text_(bytes.data(), bytes.size() < limit ? bytes.size() : limit),
        limited_(bytes.size() >= limit) {}

  enum class Got { kLine, kIncomplete, kTooLong, kBareLf, kBareCr };
  Got next(std::string_view& line) {
    for (size_t i = pos_; i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        return Got::kBareLf;
      }
      if (text_[i] == '\r') {
        if (i + 1 == text_.size()) {
          break;  // the LF may be on its way
        }
        if (text_[i + 1] != '\n') {
          return Got::kBareCr;
        }
        line = text_.substr(pos_, i - pos_);
        pos_ = i + 2;
        return Got::kLine;
      }
    }
    return limited_ ? Got::kTooLong : Got::kIncomplete;
  }
  size_t position() const { return pos_; }
  // How far the current line has come (for a request line too long to be a URI's).
  size_t pending() const { return text_.size() - pos_; }

 private:
  std::string_view text_;
  bool limited_;
  size_t pos_ = 0;
};

ParseResult error(int status, std::string_view why) {
  return {.outcome = Parsed::kError, .status = status, .error = why};
}

ParseResult line_error(Lines::Got got, int too_long_status) {
  switch (got) {
    case Lines::Got::kBareLf:
      return error(400, "a line ends in LF without CR");
    case Lines::Got::kBareCr:
      return error(400, "a CR not followed by LF");
    case Lines::Got::kTooLong:
      return error(too_long_status, "the head is longer than its limit");
    default:
      return {};
  }
}

// "HTTP/1.1" or "HTTP/1.0": the minor version; -1 another HTTP version; -2 not one at all.
int http1_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
      v[7] < '0' || v[7] > '9') {
    return -2;
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
    return -1;
  }
  return v[7] - '0';
}

// The fields after the first line, up to the empty line that ends the head.
ParseResult parse_fields(Lines& lines, const Limits& limits, std::vector<Header>& out,
                         int too_long_status, int bad_status) {
  out.clear();
  while (true) {
    std::string_view line;
    const Lines::Got got = lines.next(line);
    if (got == Lines::Got::kIncomplete) {
      return {};
    }
    if (got != Lines::Got::kLine) {
      ParseResult r = line_error(got, too_long_status);
      if (r.status == 400) {
        r.status = bad_status;
      }
      return r;
    }
    if (line.empty()) {
      return {.outcome = Parsed::kComplete, .consumed = lines.position()};
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return error(bad_status, "a field folded onto a second line (obs-fold)");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return error(bad_status, "a field line without a colon");
    }
    const std::string_view name = line.substr(0, colon);
    if (!token(name)) {
      return error(bad_status, name.empty() || name.back() == ' ' || name.back() == '\t'
                                   ? "whitespace or nothing before a field's colon"
                                   : "a field name that is not a token");
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!field_value(value)) {
      return error(bad_status, "a control character in a field value");
    }
    if (out.size() == limits.max_headers) {
      return error(too_long_status, "more fields than the limit");
    }
    out.push_back({name, value});
  }
}

}  // namespace

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

ParseResult parse_request_head(std::span<const char> bytes, const Limits& limits,
                               RequestHead& out) {
  Lines lines(bytes, limits.max_head_bytes);
  std::string_view line;
  Lines::Got got = lines.next(line);
  // A server ignores an empty line or two before a request (RFC 9112 2.2): a client's
  // CRLF after a POST body, say.
  for (int skipped = 0; got == Lines::Got::kLine && line.empty() && skipped < 2; ++skipped) {
    got = lines.next(line);
  }
  if (got == Lines::Got::kIncomplete) {
    // A request line that cannot end within the URI limit is a 414 without waiting for more.
    if (lines.pending() > limits.max_target_bytes + 64) {
      return error(414, "the request target is longer than its limit");
    }
    return {};
  }
  if (got != Lines::Got::kLine) {
    return line_error(got, lines.pending() > limits.max_target_bytes ? 414 : 431);
  }
  // method SP request-target SP HTTP-version, one space each.
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return error(400, "the request line is not method, target and version split by one space");
  }
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!token(out.method)) {
    return error(400, "the method is not a token");
  }
  if (out.target.empty()) {
    return error(400, "the request target is empty");
  }
  if (out.target.size() > limits.max_target_bytes) {
    return error(414, "the request target is longer than its limit");
  }
  for (const char c : out.target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') {
      return error(400, "the request target has a byte a URI may not (or a fragment)");
    }
  }
  const int minor = http1_version(line.substr(sp2 + 1));
  if (minor == -2) {
    return error(400, "the request line has no HTTP version");
  }
  if (minor == -1) {
    return error(505, "only HTTP/1.0 and HTTP/1.1 are spoken on this connection");
  }
  out.minor_version = minor;
  return parse_fields(lines, limits, out.headers, 431, 400);
}

ParseResult parse_response_head(std::span<const char> bytes, const Limits& limits,
                                ResponseHead& out) {
  Lines lines(bytes, limits.max_head_bytes);
  std::string_view line;
  const Lines::Got got = lines.next(line);
  if (got == Lines::Got::kIncomplete) {
    return {};
  }
  if (got != Lines::Got::kLine) {
    ParseResult r = line_error(got, 502);
    r.status = 502;
    return r;
  }
  // HTTP-version SP 3DIGIT SP [reason]; a missing last SP is taken (servers leave it out).
  const int minor = http1_version(line.substr(0, 8));
  if (minor < 0 || line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return error(502, "the upstream's status line is not HTTP/1.x, a status and a reason");
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return error(502, "the upstream's status is not three digits");
    }
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || status > 599) {
    return error(502, "the upstream's status is not 100-599");
  }
  out.minor_version = minor;
  out.status = status;
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  if (!field_value(out.reason)) {
    return error(502, "a control character in the upstream's reason phrase");
  }
  return parse_fields(lines, limits, out.headers, 502, 502);
}

}  // namespace vigil::l7::http1

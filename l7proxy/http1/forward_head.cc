#include "l7proxy/http1/forward_head.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace vigil::l7::http1 {
namespace {

constexpr std::array<std::string_view, 8> kHopByHop = {
    "connection", "keep-alive", "proxy-connection",    "te",
    "trailer",    "upgrade",    "proxy-authorization", "transfer-encoding"};

// Named by a Connection field of `headers`: hop-by-hop for this message.
bool named_by_connection(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers) {
    if (!iequals(h.name, "connection")) {
      continue;
    }
    std::string_view list = h.value;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      if (iequals(trim_ows(list.substr(0, comma)), name)) {
        return true;
      }
      if (comma == std::string_view::npos) {
        break;
      }
      list.remove_prefix(comma + 1);
    }
  }
  return false;
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, uint64_t n, int base = 10) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

void number_field(std::string& out, std::string_view name, uint64_t n) {
  out.append(name).append(": ");
  append_number(out, n);
  out.append("\r\n");
}

// The body fields of `f`, the same in both directions.
void framing_fields(std::string& out, const Framing& f) {
  if (f.body == Body::kLength) {
    number_field(out, "Content-Length", f.length);
  } else if (f.body == Body::kChunked) {
    field(out, "Transfer-Encoding", "chunked");
  }
}

bool listed(std::span<const std::string> names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return iequals(n, name); });
}

bool added(std::span<const Header> fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const Header& h) { return iequals(h.name, name); });
}

}  // namespace

bool hop_by_hop(std::string_view name) {
  return std::any_of(kHopByHop.begin(), kHopByHop.end(),
                     [&](std::string_view h) { return iequals(h, name); });
}

void write_upstream_request(const RequestHead& head, const Framing& framing,
                            const ForwardContext& c, std::string& out) {
  out.append(head.method).append(" ");
  out.append(c.path.empty() ? std::string_view("/") : c.path);
  if (!c.query.empty()) {
    out.append("?").append(c.query);
  }
  out.append(" HTTP/1.1\r\n");
  std::string forwarded_for, forwarded;  // every line of each, in order
  bool has_request_id = false;
  for (const Header& h : head.headers) {
    if (hop_by_hop(h.name) || named_by_connection(head.headers, h.name) ||
        iequals(h.name, "content-length") || iequals(h.name, "expect") || iequals(h.name, "host") ||
        h.name.find('_') != std::string_view::npos || listed(c.remove, h.name) ||
        added(c.add, h.name) || listed(c.reserved, h.name) ||
        (!c.subject_field.empty() && iequals(h.name, c.subject_field))) {
      continue;  // framing, 100-continue and Host are this proxy's to write
    }
    if (iequals(h.name, "x-forwarded-for") || iequals(h.name, "forwarded")) {
      std::string& to = iequals(h.name, "forwarded") ? forwarded : forwarded_for;
      to.append(to.empty() ? "" : ", ").append(h.value);
      continue;
    }
    if (iequals(h.name, "x-forwarded-proto") || iequals(h.name, "x-forwarded-host")) {
      continue;  // ours say how the client reached this proxy
    }
    has_request_id |= iequals(h.name, "x-request-id");
    field(out, h.name, h.value);
  }
  if (!added(c.add, "host")) {
    field(out, "Host", c.authority);  // empty for an HTTP/1.0 request that named none
  }
  for (const Header& h : c.add) {
    if (!hop_by_hop(h.name) && !iequals(h.name, "content-length")) {
      field(out, h.name, h.value);
    }
  }
  if (!c.subject_field.empty() && !c.subject.empty()) {
    field(out, c.subject_field, c.subject);
  }
  framing_fields(out, framing);
  if (framing.upgrade) {
    field(out, "Upgrade", "websocket");  // the one upgrade request_framing lets through
    field(out, "Connection", "upgrade");
  }
  // X-Forwarded-For: the client appended to what trusted proxies before it said.
  std::string xff;
  if (c.trust_forwarded && !forwarded_for.empty()) {
    xff.append(forwarded_for).append(", ");
  }
  xff.append(c.client_address);
  field(out, "X-Forwarded-For", xff);
  field(out, "X-Forwarded-Proto", c.scheme);
  if (!c.authority.empty()) {
    field(out, "X-Forwarded-Host", c.authority);
  }
  // Forwarded (RFC 7239): an IPv6 node is quoted and bracketed; the host a quoted string.
  std::string fwd;
  if (c.trust_forwarded && !forwarded.empty()) {
    fwd.append(forwarded).append(", ");
  }
  const bool v6 = c.client_address.find(':') != std::string_view::npos;
  fwd.append(v6 ? "for=\"[" : "for=").append(c.client_address).append(v6 ? "]\"" : "");
  fwd.append(";proto=").append(c.scheme);
  if (!c.authority.empty()) {
    fwd.append(";host=\"");
    for (const char ch : c.authority) {
      if (ch == '"' || ch == '\\') {
        fwd += '\\';
      }
      fwd += ch;
    }
    fwd += '"';
  }
  field(out, "Forwarded", fwd);
  if (!has_request_id && !c.request_id.empty()) {
    field(out, "X-Request-Id", c.request_id);
  }
  out.append("\r\n");
}

void write_client_response(const ResponseHead& head, const Framing& framing, bool close,
                           std::string& out) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(head.status));
  out.append(" ").append(head.reason).append("\r\n");
  for (const Header& h : head.headers) {
    if (hop_by_hop(h.name) || named_by_connection(head.headers, h.name) ||
        iequals(h.name, "content-length")) {
      continue;
    }
    field(out, h.name, h.value);
  }
  // A HEAD's or a 304's Content-Length describes the body not sent: kept as it was.
  if (framing.body == Body::kNone && head.status != 204 && head.status >= 200) {
    for (const Header& h : head.headers) {
      if (iequals(h.name, "content-length")) {
        field(out, "Content-Length", h.value);
        break;
      }
    }
  }
  framing_fields(out, framing);
  if (head.status == 101) {
    for (const Header& h : head.headers) {
      if (iequals(h.name, "upgrade")) {
        field(out, "Upgrade", h.value);
      }
    }
    field(out, "Connection", "upgrade");
  } else if (close) {
    field(out, "Connection", "close");
  }
  out.append("\r\n");
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

bool forwards_response_field(const ResponseHead& head, const Framing& framing, const Header& h) {
  if (hop_by_hop(h.name) || named_by_connection(head.headers, h.name)) {
    return false;
  }
  if (iequals(h.name, "content-length")) {
    return framing.body == Body::kLength ||
           (framing.body == Body::kNone && head.status != 204 && head.status >= 200);
  }
  return true;
}

void write_chunk(std::span<const char> data, std::string& out) {
  if (data.empty()) {
    return;  // an empty chunk would end the body
  }
  append_number(out, data.size(), 16);
  out.append("\r\n").append(data.data(), data.size()).append("\r\n");
}

void write_last_chunk(std::string& out) {
  out.append("0\r\n\r\n");
}

}  // namespace vigil::l7::http1

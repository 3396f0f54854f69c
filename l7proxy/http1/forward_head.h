// The heads vigil-l7 sends on: a request to the upstream and a response to the client, each
// written anew from the parsed head, never passed through as bytes. What is written is what
// was understood (RFC 9110 7.6): hop-by-hop fields go (Connection and every field it names,
// Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization),
// the framing fields are this proxy's own, fields with "_" in their names go (CGI-style
// servers read X_Forwarded_For as X-Forwarded-For), the target and Host are the ones routing
// saw (RequestView), and a client's X-Forwarded-For and Forwarded are appended to only when
// the listener says its clients are proxies it trusts (X-Forwarded-Proto and -Host are always
// this proxy's own).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "l7proxy/http1/framing.h"
#include "l7proxy/http1/message_head.h"

namespace vigil::l7::http1 {

struct ForwardContext {
  std::string_view client_address;      // "192.0.2.7" or "2001:db8::1"
  std::string_view scheme = "http";     // how the client came: http or https
  std::string_view authority;           // RequestView::authority: sent as Host
  std::string_view path = "/";          // RequestView::path: the path routed is the path sent
  std::string_view query;               // RequestView::query
  bool trust_forwarded = false;         // append to the client's X-Forwarded-For and Forwarded
  std::string_view request_id;          // X-Request-Id to set when the client sent none ("": none)
  std::span<const Header> add;          // the route's fields, replacing any of the same name
  std::span<const std::string> remove;  // the route's fields to drop
  // Fields only this proxy may set (the client-certificate subject fields of every listener):
  // a client's own never goes up, on any listener.
  std::span<const std::string> reserved;
  // A TLS listener's field for the client certificate's verified subject, and the subject
  // ("": none verified, nothing added).
  std::string_view subject_field;
  std::string_view subject;
};

// The most fields write_upstream_request adds to a request's own (besides a route's): Host,
// a framing field, Upgrade and Connection, X-Forwarded-For, -Proto and -Host, Forwarded,
// X-Request-Id and the client certificate's subject. An upstream must take this many more than
// clients may send.
inline constexpr size_t kMaxFieldsAdded = 10;

// The request head for the upstream, HTTP/1.1, into `out` (appended): the routed path and
// query, Host, `framing`'s body fields, the forwarding fields.
void write_upstream_request(const RequestHead& head, const Framing& framing,
                            const ForwardContext& context, std::string& out);

// The response head for the client into `out`: `framing`'s body fields toward the client (the
// caller frames for the client's version: never chunked toward HTTP/1.0), Connection: close
// when `close`, and the upgrade fields of a 101.
void write_client_response(const ResponseHead& head, const Framing& framing, bool close,
                           std::string& out);

// The reason phrase of a status this proxy answers with itself ("Error" for others).
std::string_view reason_phrase(int status);

// Whether field `h` of a response goes on to an HTTP/2 client (RFC 9113 8.2.2): not a
// hop-by-hop field or one Connection names, and Content-Length only where it describes the
// body as `framing` has it (or a HEAD's or a 304's, the body not sent). HTTP/2 frames the body
// itself: nothing else of framing is sent.
bool forwards_response_field(const ResponseHead& head, const Framing& framing, const Header& h);

// A chunk of a chunked body, and the last (empty) chunk that ends it.
void write_chunk(std::span<const char> data, std::string& out);
void write_last_chunk(std::string& out);

// Whether a field is hop-by-hop in itself (not counting those a Connection field names).
bool hop_by_hop(std::string_view name);

}  // namespace vigil::l7::http1

// The heads vigil-l7 sends on: a request to the upstream and a response to the client, each
// written anew from the parsed head, never passed through as bytes. What is written is what
// was understood (RFC 9110 7.6): hop-by-hop fields go (Connection and every field it names,
// Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization),
// the framing fields are this proxy's own, and a client's X-Forwarded-For and Forwarded are
// trusted only when the listener says its clients are proxies it trusts.
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
  std::string_view host;                // the request's host as routing saw it
  bool trust_forwarded = false;         // append to the client's X-Forwarded-For and Forwarded
  std::string_view request_id;          // X-Request-Id to set when the client sent none ("": none)
  std::span<const Header> add;          // the route's fields, replacing any of the same name
  std::span<const std::string> remove;  // the route's fields to drop
};

// The request head for the upstream, HTTP/1.1, into `out` (appended): origin-form target,
// `framing`'s body fields, the forwarding fields.
void write_upstream_request(const RequestHead& head, const Framing& framing,
                            const ForwardContext& context, std::string& out);

// The response head for the client into `out`: `framing`'s body fields toward the client,
// Connection: close when `close`, and the upgrade fields of a 101.
void write_client_response(const ResponseHead& head, const Framing& framing, bool close,
                           std::string& out);

// A chunk of a chunked body, and the last (empty) chunk that ends it.
void write_chunk(std::span<const char> data, std::string& out);
void write_last_chunk(std::string& out);

// Whether a field is hop-by-hop in itself (not counting those a Connection field names).
bool hop_by_hop(std::string_view name);

}  // namespace vigil::l7::http1

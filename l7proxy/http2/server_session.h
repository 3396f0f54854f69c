// The server side of one HTTP/2 connection (RFC 9113), over nghttp2, in the terms a proxy's
// connection wants: bytes from the client go in (receive), frames for it come out into the
// connection's output buffer (send), and in between the handler hears of each request (its
// head whole and checked, its body in pieces, its end, the stream's close) and answers with a
// response head and body bytes queued per stream.
//
// Bounded whatever the client sends:
// - nghttp2 checks the messaging rules (pseudo-headers, connection-specific fields, a body
//   against its content-length) and resets a stream that breaks them;
// - concurrent streams, header fields (count and bytes: 431 past either; trailers counted too,
//   a stream reset past them), SETTINGS entries, the CONTINUATION frames of one header block,
//   and queued control-frame acknowledgements (a SETTINGS or PING flood from a client that
//   never reads) are limited;
// - so is the rate of streams that end in an error the client caused: those it resets itself
//   (CVE-2023-44487, rapid reset) and those it makes the server reset by breaking a rule on
//   them (a window overflow, a body past its content-length: CVE-2025-8671). Past the rate the
//   connection ends with GOAWAY ENHANCE_YOUR_CALM and nothing more it sent is read. (nghttp2's
//   own limit, on the first kind only, stays too.)
// - what nghttp2 allocates for the session is capped (memory_budget.h); the request body a
//   client may send ahead is its flow-control window (more only as the handler says it passed
//   on what it was given: consumed()); the response bytes queued are capped per stream and per
//   session, and a drained stream holds no buffer; a head refused as too large is not kept.
// A response whole before its request (a refusal, an early answer) asks the client to stop
// sending with RST_STREAM NO_ERROR once it is out (RFC 9113 8.1). Request trailers are read
// and dropped; responses carry none (not yet). No callback lets an
// exception cross nghttp2's C: one fails the session instead.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/http2/memory_budget.h"
#include "l7proxy/http2/messages.h"
#include "l7proxy/http2/queued_body.h"

namespace vigil::l7::http2 {

// What a client sends first on a connection that speaks HTTP/2 from its start (h2c with prior
// knowledge, RFC 9113 3.4).
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// `start` could be the beginning of the preface (so far as it goes): a plain listener reads
// until it is not, or is whole.
bool could_be_preface(std::string_view start);

struct Limits {
  uint32_t max_concurrent_streams = 128;
  uint32_t stream_window = 256 * 1024;       // request body a client sends ahead, per stream
  uint32_t connection_window = 1024 * 1024;  // and over all its streams (at least 65535)
  uint32_t max_header_bytes = 64 * 1024;     // a request's fields, counted as RFC 9113 6.5.2 does
  uint32_t max_header_fields = 100;
  size_t max_settings = 32;                  // entries in one SETTINGS frame
  size_t max_continuations = 8;              // CONTINUATION frames in one header block
  size_t max_outbound_ack = 1000;            // SETTINGS and PING acknowledgements queued unsent
  uint64_t reset_burst = 1000;               // streams that may end in the client's error at once,
  uint64_t reset_rate = 100;                 // and per second after that
  size_t stream_output = size_t{64} * 1024;  // response body queued per stream,
  size_t session_output = size_t{1024} * 1024;  // and over all streams
  size_t memory = size_t{1024} * 1024;          // what nghttp2 may allocate for the session
};

class ServerSession {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A request's head, whole. Answered with respond(), or reset().
    virtual void on_request(int32_t stream, RequestHead&& head) = 0;
    // A piece of its body: the handler calls consumed() for it once it has passed it on.
    virtual void on_request_data(int32_t stream, std::span<const char> data) = 0;
    virtual void on_request_end(int32_t stream) = 0;
    // The stream is gone (answered, reset by either side, or the connection failing):
    // nothing more is said of it, and calls for it are ignored. `error`: 0 when it ended well,
    // an HTTP/2 error code otherwise.
    virtual void on_stream_close(int32_t stream, uint32_t error) = 0;
  };

  using Clock = std::chrono::steady_clock;

  // Settings go out with the first send(). A client that does not start with the preface
  // fails the first receive.
  ServerSession(Handler& handler, const Limits& limits);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Bytes from the client, all taken, at `now` (the rate of streams ended in error refills
  // with it). False: the connection must end at once, nothing more sent (its bytes were not
  // HTTP/2, it flooded, or it went past its memory): error() says why, and the handler has
  // heard every stream close.
  bool receive(std::span<const char> bytes, Clock::time_point now = {});
  // Frames for the client appended to `out` until it holds `high_water` bytes or nothing is
  // left to send. False: as for receive().
  bool send(ByteBuffer& out, size_t high_water);
  // Neither side has anything more to say: the connection may close (after a GOAWAY went out,
  // or the client's). Once it is, the handler has heard every stream close.
  bool finished() const;
  bool wants_write() const;
  const std::string& error() const { return error_; }
  // The error code of the GOAWAY this side sent (0: none, or NO_ERROR).
  uint32_t goaway_sent() const { return goaway_sent_; }

  // The response's head (200-599), once; `end_stream`: it has no body. False when the stream
  // is gone, answered already, or nghttp2 refused it.
  bool respond(int32_t stream, int status, std::span<const Header> headers, bool end_stream);
  // Room for the stream's response body now (0 while what was queued has not drained).
  size_t body_room(int32_t stream) const;
  // Queues up to body_room() bytes of the response body (returns how many); `end`, with the
  // last of them: the body is whole.
  size_t queue_body(int32_t stream, std::span<const char> bytes, bool end);
  // Ends a stream at once with `error` (an HTTP/2 error code). The proxy's doing, not the
  // client's: it does not count toward the rate of streams ended in error.
  void reset(int32_t stream, uint32_t error);
  // The handler passed `bytes` of the stream's request body on: the client may send as much
  // more.
  void consumed(int32_t stream, size_t bytes);
  // A graceful end: no stream after those begun is taken; the connection ends once they are
  // answered.
  void shut_down();
  // The connection is going (the proxy closes it, or the client did): the handler hears each
  // stream it was told of close with `error`. The destructor tells the handler nothing.
  void close_streams(uint32_t error);

  size_t open_streams() const { return streams_.size(); }
  size_t memory_in_use() const { return budget_.in_use(); }

 private:
  struct Stream {
    explicit Stream(int32_t stream_id, size_t cap) : id(stream_id), body(cap) {}
    int32_t id;
    RequestHead head;
    size_t header_bytes = 0;
    uint32_t header_fields = 0;
    bool too_large = false;  // its head went past a limit: answered 431
    bool delivered = false;  // the handler knows of it
    bool responded = false;
    bool client_done = false;  // its END_STREAM came
    bool reset_here = false;   // reset by the handler: not the client's doing
    size_t unconsumed = 0;     // body bytes given to the handler and not consumed yet
    QueuedBody body;           // the response's
  };

  Stream* find(int32_t stream) const;
  // The session is over: why, and every stream the handler knew of closed.
  bool fail(int code, std::string_view what);
  // A stream ended in the client's error: one token of the rate; past it the session ends.
  void count_error_close();
  // Runs a callback's body: an exception fails the session rather than cross nghttp2's C.
  template <typename Body>
  int guarded(Body&& body);

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                       void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream, const uint8_t* data,
                           size_t len, void* self);
  static int on_stream_close_cb(nghttp2_session*, int32_t stream, uint32_t error, void* self);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static ssize_t read_body(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source* source, void* self);

  // A field of the head, or of trailers (counted, not kept). False: trailers past the limits.
  bool take_header(Stream& s, std::string_view name, std::string_view value, bool trailer);
  void headers_done(Stream& s, bool end_stream);

  Handler& handler_;
  Limits limits_;
  MemoryBudget budget_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  size_t queued_ = 0;  // response body bytes queued over all streams
  // The rate of streams ended in the client's error: a token bucket, refilled by receive's
  // time.
  double error_tokens_ = 0;
  Clock::time_point refilled_at_{};
  std::string error_;
  uint32_t goaway_sent_ = 0;
  bool failed_ = false;
  bool terminated_ = false;  // past the rate of streams ended in error: GOAWAY queued
};

}  // namespace vigil::l7::http2

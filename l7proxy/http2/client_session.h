// The client side of one HTTP/2 connection (RFC 9113) to an upstream, over nghttp2, in the
// terms the proxy's upstream side wants: requests go in as heads and body bytes queued per
// stream, frames for the server come out into the connection's output buffer (send), bytes
// from the server go in (receive), and the handler hears of each response (its final head,
// its body in pieces, its end) and of each stream's close.
//
// An upstream is trusted more than a client but still bounded: a response's fields (count and
// bytes: the stream is reset past either), what nghttp2 allocates (memory_budget.h), the
// response body the server may send ahead (its windows, reopened only as the handler says it
// passed the bytes on: consumed()), SETTINGS entries, CONTINUATION frames and queued
// acknowledgements. The response bytes held unconsumed are at most a stream window per open
// stream: a stream's close gives the connection's window back whatever its handler still holds.
// Informational responses (1xx) are read and dropped; so are trailers. Push
// is off. Streams are opened only while the server's SETTINGS_MAX_CONCURRENT_STREAMS allows
// (stream_slots()): nghttp2 would queue the rest out of sight. No callback lets an exception
// cross nghttp2's C: one fails the session instead.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/http2/memory_budget.h"
#include "l7proxy/http2/messages.h"
#include "l7proxy/http2/queued_body.h"

namespace vigil::l7::http2 {

struct ClientLimits {
  uint32_t stream_window = 256 * 1024;       // response body the server sends ahead, per stream
  uint32_t connection_window = 1024 * 1024;  // and over all streams (at least 65535)
  uint32_t max_header_bytes = 64 * 1024;     // a response's fields, counted as RFC 9113 6.5.2 does
  uint32_t max_header_fields = 100;
  size_t max_settings = 32;
  size_t max_continuations = 8;
  size_t max_outbound_ack = 1000;
  size_t stream_output = size_t{64} * 1024;     // request body queued per stream,
  size_t session_output = size_t{1024} * 1024;  // and over all streams
  size_t memory = size_t{1024} * 1024;          // what nghttp2 may allocate for the session
  // Streams open at once before the server's SETTINGS say how many it takes (RFC 9113 6.5.2
  // suggests no less than 100).
  uint32_t assumed_concurrent_streams = 100;
};

class ClientSession {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A stream's final response head (200-599), whole and checked.
    virtual void on_response(int32_t stream, ResponseHead&& head) = 0;
    // A piece of its body: the handler calls consumed() for it once it has passed it on.
    virtual void on_response_data(int32_t stream, std::span<const char> data) = 0;
    // The response is whole (its END_STREAM came).
    virtual void on_response_end(int32_t stream) = 0;
    // The stream is gone (it ended, or either side reset it, or the connection failed):
    // nothing more is said of it, and calls for it are ignored. `error`: 0 only when the
    // response ended whole (a server's reset with NO_ERROR before that is INTERNAL_ERROR);
    // NGHTTP2_REFUSED_STREAM only when no response began (refused, or past the last stream of
    // its GOAWAY: safe to send again elsewhere).
    virtual void on_stream_close(int32_t stream, uint32_t error) = 0;
    // Bytes of the stream's request body went out: body_room() has grown.
    virtual void on_body_sent(int32_t /*stream*/) {}
    // The request bodies queued over all streams fell below the session's cap: any stream's
    // body_room() may have grown.
    virtual void on_output_room() {}
  };

  using Clock = std::chrono::steady_clock;

  // The preface and settings go out with the first send().
  ClientSession(Handler& handler, const ClientLimits& limits);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Opens a stream for `head` (its end_stream: no body follows; else queue_body() until
  // `end`). The stream's id, or 0 when no stream may open now (no slot, the server's GOAWAY,
  // the session failed or closing, or nghttp2 refused the head).
  int32_t submit(const RequestHead& head);
  // Streams that may open now.
  uint32_t stream_slots() const;
  // Room for the stream's request body now (0 while what was queued has not drained).
  size_t body_room(int32_t stream) const;
  // Queues up to body_room() bytes of the request body (returns how many); `end`, with the
  // last of them: the body is whole.
  size_t queue_body(int32_t stream, std::span<const char> bytes, bool end);
  // The handler passed `bytes` of the stream's response body on: the server may send as much
  // more.
  void consumed(int32_t stream, size_t bytes);
  // Ends a stream with `error` (an HTTP/2 error code): the handler hears it close once the
  // reset goes out, or at once if its head never went (it waited in nghttp2's queue).
  void reset(int32_t stream, uint32_t error);

  // Bytes from the server, all taken. False: the connection must end at once (its bytes were
  // not HTTP/2, it flooded, or it went past its memory): error() says why, and the handler has
  // heard every stream close.
  bool receive(std::span<const char> bytes);
  // Frames for the server appended to `out` until it holds `high_water` bytes or nothing is
  // left to send. False: as for receive().
  bool send(ByteBuffer& out, size_t high_water);
  bool wants_write() const;
  // No more streams will be opened: a GOAWAY goes out, the streams open run to their end.
  void shut_down();
  // No stream will open again: the server's GOAWAY, ours, or the session ended in error.
  bool going_away() const;
  // Nothing open and nothing more to say: the connection may close.
  bool finished() const;
  // The connection is going: the handler hears each open stream close with `error`, and no
  // stream opens after. (The destructor tells the handler nothing.)
  void close_streams(uint32_t error);
  // Why the session failed, or why nghttp2 ended it over what the upstream sent.
  const std::string& error() const { return error_; }

  size_t open_streams() const { return streams_.size(); }
  size_t memory_in_use() const { return budget_.in_use(); }

 private:
  struct Stream {
    Stream(int32_t stream_id, size_t cap) : id(stream_id), body(cap) {}
    int32_t id;
    ResponseHead head;
    size_t header_bytes = 0;
    uint32_t header_fields = 0;
    bool answered = false;      // its final head was passed on
    bool sent = false;          // its HEADERS went out (else it waits in nghttp2's queue)
    bool remote_ended = false;  // the server's END_STREAM came
    size_t unconsumed = 0;      // response bytes given to the handler and not consumed yet
    QueuedBody body;            // the request's
  };

  Stream* find(int32_t stream) const;
  bool fail(int code, std::string_view what) noexcept;
  // The handler hears `stream` close; an exception it throws goes no further.
  void tell_close(int32_t stream, uint32_t error) noexcept;
  template <typename Body>
  int guarded(Body&& body);
  // A field of a response head (informational or final) or of trailers. False: past the
  // limits (the stream is reset).
  bool take_header(Stream& s, std::string_view name, std::string_view value);

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

  Handler& handler_;
  ClientLimits limits_;
  MemoryBudget budget_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  size_t queued_ = 0;  // request body bytes queued over all streams
  bool goaway_received_ = false;
  bool shut_down_ = false;
  bool closing_ = false;  // close_streams() ran: nothing opens again
  bool failed_ = false;
  std::string error_;
};

}  // namespace vigil::l7::http2

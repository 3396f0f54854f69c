#include "l7proxy/http2/server_session.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "l7proxy/http2/nghttp2_glue.h"

namespace vigil::l7::http2 {
namespace {

// Window updates go out as the handler passes request bodies on, so a client can send ahead no
// more than its windows, however slow the upstream.
void set_options(nghttp2_option* option, const Limits& limits) {
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_settings(option, limits.max_settings);
  nghttp2_option_set_max_continuations(option, limits.max_continuations);
  nghttp2_option_set_max_outbound_ack(option, limits.max_outbound_ack);
  // nghttp2's own limit counts only the client's resets, and its GOAWAY leaves the
  // connection open: it stays as a backstop, twice as lenient as this session's own count
  // (count_error_close), which sees both kinds and ends the connection.
  nghttp2_option_set_stream_reset_rate_limit(option, limits.reset_burst * 2, limits.reset_rate * 2);
  // Closed streams are not kept for the priority tree: RFC 9218 clients do not use it, and
  // each kept one would be memory a client could make the server hold.
  nghttp2_option_set_no_closed_streams(option, 1);
}

}  // namespace

bool could_be_preface(std::string_view start) {
  return kClientPreface.substr(0, std::min(start.size(), kClientPreface.size())) ==
         start.substr(0, std::min(start.size(), kClientPreface.size()));
}

ServerSession::ServerSession(Handler& handler, const Limits& limits)
    : handler_(handler),
      limits_(limits),
      budget_(limits.memory),
      error_tokens_(static_cast<double>(limits.reset_burst)) {
  SessionCallbacks cb;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb.get(), on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb.get(), on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb.get(), on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.get(), on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb.get(), on_stream_close_cb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb.get(), on_frame_send);
  SessionOptions options;
  set_options(options.get(), limits);
  if (nghttp2_session_server_new3(&session_, cb.get(), this, options.get(), budget_.allocator()) !=
      0) {
    throw std::runtime_error("HTTP/2: no memory for a session");
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  int rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  if (rv == 0 && limits.connection_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    rv = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                               static_cast<int32_t>(limits.connection_window));
  }
  if (rv != 0) {
    nghttp2_session_del(session_);
    throw std::runtime_error(std::string("HTTP/2: the session's settings: ") +
                             nghttp2_strerror(rv));
  }
}

ServerSession::~ServerSession() {
  // nghttp2 frees through the budget, which outlives it (declared before it).
  nghttp2_session_del(session_);
}

template <typename Body>
int ServerSession::guarded(Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    fail(0, std::string("HTTP/2: ") + e.what());
  } catch (...) {
    fail(0, "HTTP/2: an unknown exception");
  }
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

bool ServerSession::fail(int code, std::string_view what) {
  const bool first = !failed_;
  failed_ = true;
  if (error_.empty() || first) {
    error_ = std::string(what);
    if (code == NGHTTP2_ERR_NOMEM && budget_.exhausted()) {
      error_ += ": the session went past its memory budget of " + std::to_string(budget_.limit()) +
                " bytes";
    } else if (code != 0) {
      error_ += std::string(": ") + nghttp2_strerror(code);
    }
  }
  close_streams(NGHTTP2_INTERNAL_ERROR);
  return false;
}

void ServerSession::close_streams(uint32_t error) {
  std::vector<int32_t> told;
  for (auto& [id, s] : streams_) {
    if (!failed_) {
      // nghttp2 forgets it too, so nothing of it is sent or asked for after this.
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error);
    }
    if (s->delivered) {
      told.push_back(id);
    }
  }
  streams_.clear();
  queued_ = 0;
  for (const int32_t id : told) {
    handler_.on_stream_close(id, error);
  }
}

void ServerSession::count_error_close() {
  if (terminated_) {
    return;
  }
  error_tokens_ -= 1;
  if (error_tokens_ >= 0) {
    return;
  }
  terminated_ = true;
  error_ =
      "the client ended streams in error (resetting them, or making the server reset "
      "them) faster than " +
      std::to_string(limits_.reset_rate) + " a second after a burst of " +
      std::to_string(limits_.reset_burst);
  // Its GOAWAY goes out next; nghttp2 reads nothing more of the client's.
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

bool ServerSession::receive(std::span<const char> bytes, Clock::time_point now) {
  if (failed_) {
    return false;
  }
  if (refilled_at_ != Clock::time_point{} && now > refilled_at_) {
    const double seconds = std::chrono::duration<double>(now - refilled_at_).count();
    error_tokens_ = std::min(static_cast<double>(limits_.reset_burst),
                             error_tokens_ + seconds * static_cast<double>(limits_.reset_rate));
  }
  refilled_at_ = now;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const ssize_t n = nghttp2_session_mem_recv(session_, p, bytes.size());
  if (failed_) {
    return false;  // a callback failed it
  }
  if (n < 0) {
    switch (n) {
      case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
        return fail(0, "the client did not begin with HTTP/2's connection preface");
      case NGHTTP2_ERR_FLOODED:
        return fail(0,
                    "the client sent control frames faster than it read their "
                    "acknowledgements (a flood)");
      case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
        return fail(0, "the client split a header block into more than " +
                           std::to_string(limits_.max_continuations) +
                           " CONTINUATION frames (a CONTINUATION flood)");
      default:
        return fail(static_cast<int>(n), "HTTP/2 input");
    }
  }
  if (finished()) {
    close_streams(NGHTTP2_CANCEL);
  }
  return true;
}

bool ServerSession::send(ByteBuffer& out, size_t high_water) {
  if (failed_) {
    return false;
  }
  const ssize_t rc = take_frames(session_, out, high_water, failed_);
  if (failed_) {
    return false;
  }
  if (rc < 0) {
    return fail(static_cast<int>(rc), "HTTP/2 output");
  }
  if (finished() && !streams_.empty()) {
    // A GOAWAY that ended the connection went out: streams it left open end with it.
    close_streams(NGHTTP2_CANCEL);
  }
  return true;
}

bool ServerSession::finished() const {
  return failed_ ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

bool ServerSession::wants_write() const {
  return !failed_ && nghttp2_session_want_write(session_) != 0;
}

ServerSession::Stream* ServerSession::find(int32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool ServerSession::respond(int32_t stream, int status, std::span<const Header> headers,
                            bool end_stream) {
  Stream* s = find(stream);
  if (s == nullptr || failed_ || s->responded || status < 200 || status > 599) {
    return false;
  }
  const char code[3] = {static_cast<char>('0' + status / 100),
                        static_cast<char>('0' + status / 10 % 10),
                        static_cast<char>('0' + status % 10)};
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  nva.push_back(field(":status", std::string_view(code, 3)));
  for (const Header& h : headers) {
    nva.push_back(field(h.name, h.value));
  }
  // The body's source is named by the stream's id, looked up at each read: never a pointer
  // nghttp2 could hold past the stream's end here.
  nghttp2_data_provider body{};
  body.source.fd = stream;
  body.read_callback = read_body;
  if (nghttp2_submit_response(session_, stream, nva.data(), nva.size(),
                              end_stream ? nullptr : &body) != 0) {
    return false;
  }
  s->responded = true;
  return true;
}

size_t ServerSession::body_room(int32_t stream) const {
  const Stream* s = find(stream);
  return s == nullptr || !s->responded
             ? 0
             : s->body.room(limits_.stream_output, queued_, limits_.session_output);
}

size_t ServerSession::queue_body(int32_t stream, std::span<const char> bytes, bool end) {
  Stream* s = find(stream);
  if (s == nullptr || !s->responded || s->body.end) {
    return 0;
  }
  const size_t n = std::min(bytes.size(), body_room(stream));
  s->body.add(bytes, n, end, session_, stream);
  queued_ += n;
  return n;
}

void ServerSession::reset(int32_t stream, uint32_t error) {
  if (Stream* s = find(stream); s != nullptr && !failed_) {
    s->reset_here = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error);
  }
}

void ServerSession::consumed(int32_t stream, size_t bytes) {
  Stream* s = find(stream);
  if (s == nullptr || failed_) {
    return;
  }
  bytes = std::min(bytes, s->unconsumed);
  s->unconsumed -= bytes;
  nghttp2_session_consume(session_, stream, bytes);
}

void ServerSession::shut_down() {
  if (!failed_) {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
  }
}

int ServerSession::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  return me.guarded([&] {
    me.streams_[frame->hd.stream_id] =
        std::make_unique<Stream>(frame->hd.stream_id, me.limits_.stream_output);
    return 0;
  });
}

bool ServerSession::take_header(Stream& s, std::string_view name, std::string_view value,
                                bool trailer) {
  s.header_bytes += name.size() + value.size() + kFieldOverhead;
  if (++s.header_fields > limits_.max_header_fields || s.header_bytes > limits_.max_header_bytes) {
    if (trailer) {
      return false;  // too late for a 431: the stream is reset
    }
    if (!s.too_large) {
      s.too_large = true;
      s.head = {};  // what was kept goes now: the answer is 431 whatever follows
    }
  }
  if (s.too_large || trailer) {
    return true;  // counted, not kept
  }
  RequestHead& h = s.head;
  if (name == ":method") {
    h.method = value;
  } else if (name == ":scheme") {
    h.scheme = value;
  } else if (name == ":authority") {
    h.authority = value;
  } else if (name == ":path") {
    h.path = value;
  } else if (!name.empty() && name[0] == ':') {
    // nghttp2 refuses any other pseudo-header before this is called; :protocol (RFC 8441)
    // only when extended CONNECT is on, which it is not.
  } else if (name == "cookie") {
    auto it = std::find_if(h.headers.begin(), h.headers.end(),
                           [](const Header& f) { return f.name == "cookie"; });
    if (it == h.headers.end()) {
      h.headers.push_back({std::string(name), std::string(value)});
    } else {
      it->value.append("; ").append(value);
    }
  } else {
    h.headers.push_back({std::string(name), std::string(value)});
  }
  return true;
}

int ServerSession::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                             size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                             void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  Stream* s = me.find(frame->hd.stream_id);
  if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  const bool trailer = frame->headers.cat != NGHTTP2_HCAT_REQUEST;
  return me.guarded([&] {
    // Past the limits in trailers: nghttp2 resets the stream (counted as the client's error).
    return me.take_header(*s, text(name, namelen), text(value, valuelen), trailer)
               ? 0
               : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  });
}

void ServerSession::headers_done(Stream& s, bool end_stream) {
  if (s.too_large) {
    // The 431 alone; once it is out, a client still sending a body is told to stop
    // (RST_STREAM NO_ERROR, RFC 9113 8.1), in on_frame_send. Sent together, nghttp2 would drop
    // the answer for the reset.
    const nghttp2_nv nv[] = {field(":status", "431"), field("content-length", "0")};
    if (nghttp2_submit_response(session_, s.id, nv, std::size(nv), nullptr) != 0) {
      s.reset_here = true;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    }
    return;
  }
  s.head.end_stream = end_stream;
  s.delivered = true;
  handler_.on_request(s.id, std::move(s.head));
  if (end_stream) {
    handler_.on_request_end(s.id);
  }
}

int ServerSession::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  Stream* s = me.find(frame->hd.stream_id);
  if (s == nullptr) {
    return 0;
  }
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (end_stream && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
    s->client_done = true;
  }
  return me.guarded([&] {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      me.headers_done(*s, end_stream);
    } else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
               end_stream && s->delivered) {
      me.handler_.on_request_end(s->id);
    }
    return 0;
  });
}

int ServerSession::on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream,
                                 const uint8_t* data, size_t len, void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  Stream* s = me.find(stream);
  if (s == nullptr || !s->delivered) {
    // A body nobody will read (its head was refused): the client may send the next at once.
    nghttp2_session_consume(session, stream, len);
    return 0;
  }
  s->unconsumed += len;
  return me.guarded([&] {
    me.handler_.on_request_data(stream, {reinterpret_cast<const char*>(data), len});
    return 0;
  });
}

int ServerSession::on_stream_close_cb(nghttp2_session* session, int32_t stream, uint32_t error,
                                      void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  auto it = me.streams_.find(stream);
  if (it == me.streams_.end()) {
    return 0;
  }
  const Stream& s = *it->second;
  // What the handler was given and had not passed on no longer holds the connection's window.
  if (s.unconsumed > 0) {
    nghttp2_session_consume_connection(session, s.unconsumed);
  }
  me.queued_ -= s.body.bytes.size();
  const bool delivered = s.delivered;
  const bool clients_error = error != NGHTTP2_NO_ERROR && !s.reset_here;
  me.streams_.erase(it);
  if (clients_error) {
    me.count_error_close();
  }
  if (!delivered) {
    return 0;
  }
  return me.guarded([&] {
    me.handler_.on_stream_close(stream, error);
    return 0;
  });
}

int ServerSession::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    me.goaway_sent_ = frame->goaway.error_code;
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    // A whole response before the whole request (a 431, a refusal, an upstream's early
    // answer): the client is asked to stop sending, without error (RFC 9113 8.1).
    Stream* s = me.find(frame->hd.stream_id);
    if (s != nullptr && !s->client_done) {
      s->reset_here = true;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    }
  }
  return 0;
}

ssize_t ServerSession::read_body(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                                 uint32_t* flags, nghttp2_data_source*, void* self) {
  auto& me = *static_cast<ServerSession*>(self);
  Stream* s = me.find(stream);
  if (s == nullptr) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // not ours any more: nghttp2 resets it
  }
  size_t taken = 0;
  const ssize_t rc = s->body.drain(buf, length, flags, taken);
  me.queued_ -= taken;
  return rc;
}

}  // namespace vigil::l7::http2

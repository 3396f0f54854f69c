#include "l7proxy/http2/client_session.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "l7proxy/http2/nghttp2_glue.h"

namespace vigil::l7::http2 {
namespace {

// RFC 9113 8.2.2: fields that speak of the connection have no place in HTTP/2 (a TE other than
// "trailers" neither).
bool connection_specific(std::string_view name, std::string_view value) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || (name == "te" && value != "trailers");
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return out;
}

int status_of(std::string_view value) {
  if (value.size() != 3) {
    return 0;
  }
  int status = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return 0;
    }
    status = status * 10 + (c - '0');
  }
  return status;
}

}  // namespace

ClientSession::ClientSession(Handler& handler, const ClientLimits& limits)
    : handler_(handler), limits_(limits), budget_(limits.memory) {
  SessionCallbacks cb;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb.get(), on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb.get(), on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb.get(), on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.get(), on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb.get(), on_stream_close_cb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb.get(), on_frame_send);
  SessionOptions options;
  // Window updates go out as the handler passes response bodies on: a slow client holds the
  // server back instead of making the proxy buffer.
  nghttp2_option_set_no_auto_window_update(options.get(), 1);
  nghttp2_option_set_max_settings(options.get(), limits.max_settings);
  nghttp2_option_set_max_continuations(options.get(), limits.max_continuations);
  nghttp2_option_set_max_outbound_ack(options.get(), limits.max_outbound_ack);
  nghttp2_option_set_no_closed_streams(options.get(), 1);
  nghttp2_option_set_peer_max_concurrent_streams(options.get(), limits.assumed_concurrent_streams);
  if (nghttp2_session_client_new3(&session_, cb.get(), this, options.get(), budget_.allocator()) !=
      0) {
    throw std::runtime_error("HTTP/2: no memory for a session");
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_bytes},
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

ClientSession::~ClientSession() {
  nghttp2_session_del(session_);
}

template <typename Body>
int ClientSession::guarded(Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    fail(0, std::string("HTTP/2: ") + e.what());
  } catch (...) {
    fail(0, "HTTP/2: an unknown exception");
  }
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

bool ClientSession::fail(int code, std::string_view what) noexcept {
  const bool first = !failed_;
  failed_ = true;
  if (first) {
    try {
      error_ = std::string(what);
      if (code == NGHTTP2_ERR_NOMEM && budget_.exhausted()) {
        error_ += ": the session went past its memory budget of " +
                  std::to_string(budget_.limit()) + " bytes";
      } else if (code != 0) {
        error_ += std::string(": ") + nghttp2_strerror(code);
      }
    } catch (...) {
      error_.clear();  // no memory for the words: the failure stands without them
    }
  }
  close_streams(NGHTTP2_INTERNAL_ERROR);
  return false;
}

void ClientSession::tell_close(int32_t stream, uint32_t error) noexcept {
  try {
    handler_.on_stream_close(stream, error);
  } catch (...) {
    // The stream is gone either way; the handler's trouble is its own.
  }
}

void ClientSession::close_streams(uint32_t error) {
  closing_ = true;
  // Taken out first: a handler told of one close finds none of them open.
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;
  streams.swap(streams_);
  queued_ = 0;
  for (auto& [id, s] : streams) {
    if (!failed_) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error);
      if (s->unconsumed > 0) {
        nghttp2_session_consume_connection(session_, s->unconsumed);
      }
    }
  }
  for (auto& [id, s] : streams) {
    tell_close(id, error);
  }
}

ClientSession::Stream* ClientSession::find(int32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

uint32_t ClientSession::stream_slots() const {
  if (going_away() || closing_ || nghttp2_session_get_next_stream_id(session_) > (1U << 31) - 1) {
    return 0;
  }
  // Before the server's SETTINGS come, nghttp2 says the number it was told to assume
  // (nghttp2_option_set_peer_max_concurrent_streams).
  const uint32_t allowed =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return streams_.size() < allowed ? allowed - static_cast<uint32_t>(streams_.size()) : 0;
}

int32_t ClientSession::submit(const RequestHead& head) {
  if (stream_slots() == 0) {
    return 0;
  }
  // Names lower-cased and connection-specific fields left out here, whatever the caller
  // built the head from (an HTTP/1.1 request's fields keep their case).
  std::vector<std::string> names;
  names.reserve(head.headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(head.headers.size() + 4);
  nva.push_back(field(":method", head.method));
  nva.push_back(field(":scheme", head.scheme));
  if (!head.authority.empty()) {
    nva.push_back(field(":authority", head.authority));
  }
  nva.push_back(field(":path", head.path));
  for (const Header& h : head.headers) {
    names.push_back(lower(h.name));
    if (!connection_specific(names.back(), h.value)) {
      nva.push_back(field(names.back(), h.value));
    }
  }
  // The body's source is named by the stream's id at each read (read_body): never a pointer
  // nghttp2 could hold past the stream's end here.
  nghttp2_data_provider body{};
  body.read_callback = read_body;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            head.end_stream ? nullptr : &body, nullptr);
  if (id <= 0) {
    return 0;
  }
  auto s = std::make_unique<Stream>(id, limits_.stream_output);
  s->body.end = head.end_stream;
  streams_[id] = std::move(s);
  return id;
}

size_t ClientSession::body_room(int32_t stream) const {
  const Stream* s = find(stream);
  return s == nullptr ? 0 : s->body.room(limits_.stream_output, queued_, limits_.session_output);
}

size_t ClientSession::queue_body(int32_t stream, std::span<const char> bytes, bool end) {
  Stream* s = find(stream);
  if (s == nullptr || s->body.end) {
    return 0;
  }
  const size_t n = std::min(bytes.size(), body_room(stream));
  s->body.add(bytes, n, end, session_, stream);
  queued_ += n;
  return n;
}

void ClientSession::consumed(int32_t stream, size_t bytes) {
  Stream* s = find(stream);
  if (s == nullptr || failed_) {
    return;
  }
  bytes = std::min(bytes, s->unconsumed);
  s->unconsumed -= bytes;
  nghttp2_session_consume(session_, stream, bytes);
}

void ClientSession::reset(int32_t stream, uint32_t error) {
  Stream* s = find(stream);
  if (s == nullptr || failed_) {
    return;
  }
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error);
  if (!s->sent) {
    // Still in nghttp2's queue (the server's limit fell after it was opened): the reset only
    // cancels its HEADERS, and no close would come while the queue waits for a slot.
    const bool was_full = queued_ >= limits_.session_output;
    queued_ -= s->body.bytes.size();
    streams_.erase(stream);
    tell_close(stream, error);
    if (was_full && queued_ < limits_.session_output) {
      handler_.on_output_room();
    }
  }
}

bool ClientSession::receive(std::span<const char> bytes) {
  if (failed_) {
    return false;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const ssize_t n = nghttp2_session_mem_recv(session_, p, bytes.size());
  if (failed_) {
    return false;  // a callback failed it
  }
  if (n < 0) {
    switch (n) {
      case NGHTTP2_ERR_FLOODED:
        return fail(0,
                    "the upstream sent control frames faster than it read their "
                    "acknowledgements (a flood)");
      case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
        return fail(0, "the upstream split a header block into more than " +
                           std::to_string(limits_.max_continuations) + " CONTINUATION frames");
      default:
        return fail(static_cast<int>(n), "HTTP/2 input from the upstream");
    }
  }
  if (finished() && !streams_.empty()) {
    close_streams(NGHTTP2_CANCEL);
  }
  return true;
}

bool ClientSession::send(ByteBuffer& out, size_t high_water) {
  if (failed_) {
    return false;
  }
  const ssize_t rc = take_frames(session_, out, high_water, failed_);
  if (failed_) {
    return false;
  }
  if (rc < 0) {
    return fail(static_cast<int>(rc), "HTTP/2 output to the upstream");
  }
  if (finished() && !streams_.empty()) {
    close_streams(NGHTTP2_CANCEL);
  }
  return true;
}

bool ClientSession::wants_write() const {
  return !failed_ && nghttp2_session_want_write(session_) != 0;
}

void ClientSession::shut_down() {
  if (!failed_ && !shut_down_) {
    shut_down_ = true;
    // A client takes no streams from the server (push is off): its GOAWAY names none.
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  }
}

bool ClientSession::going_away() const {
  return failed_ || goaway_received_ || shut_down_ || nghttp2_session_want_read(session_) == 0;
}

bool ClientSession::finished() const {
  return failed_ ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

int ClientSession::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  if (frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  if (Stream* s = me.find(frame->hd.stream_id); s != nullptr) {
    // Each block is counted on its own (informational heads, the final one, trailers), and a
    // head begins afresh until the final one came. (nghttp2 files only a stream's first
    // HEADERS as NGHTTP2_HCAT_RESPONSE: the final head after a 1xx comes as HCAT_HEADERS.)
    s->header_bytes = 0;
    s->header_fields = 0;
    if (!s->answered) {
      s->head = {};
    }
  }
  return 0;
}

bool ClientSession::take_header(Stream& s, std::string_view name, std::string_view value) {
  s.header_bytes += name.size() + value.size() + kFieldOverhead;
  if (++s.header_fields > limits_.max_header_fields || s.header_bytes > limits_.max_header_bytes) {
    return false;
  }
  if (s.answered) {
    return true;  // trailers: counted, not kept
  }
  if (name == ":status") {
    s.head.status = status_of(value);
  } else if (name.empty() || name[0] != ':') {
    s.head.headers.push_back({std::string(name), std::string(value)});
  }
  return true;
}

int ClientSession::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                             size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                             void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  Stream* s = me.find(frame->hd.stream_id);
  if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  return me.guarded([&] {
    // Past the limits: nghttp2 resets the stream, and the handler hears it close in error.
    return me.take_header(*s, text(name, namelen), text(value, valuelen))
               ? 0
               : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  });
}

int ClientSession::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    me.goaway_received_ = true;
    return 0;
  }
  const int32_t id = frame->hd.stream_id;
  Stream* s = me.find(id);
  if (s == nullptr) {
    return 0;
  }
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (end_stream && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
    s->remote_ended = true;
  }
  return me.guarded([&] {
    if (frame->hd.type == NGHTTP2_HEADERS && !s->answered) {
      if (s->head.status < 200) {
        s->head = {};  // informational (nghttp2 checked :status): the final head follows
        return 0;
      }
      s->answered = true;
      s->head.end_stream = end_stream;
      me.handler_.on_response(id, std::move(s->head));
      // The handler may have ended the stream, or every stream: looked up again.
      if (end_stream && me.find(id) != nullptr) {
        me.handler_.on_response_end(id);
      }
    } else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
               end_stream && s->answered) {
      me.handler_.on_response_end(id);
    }
    return 0;
  });
}

int ClientSession::on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (Stream* s = me.find(frame->hd.stream_id); s != nullptr) {
      s->sent = true;
    }
  }
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR &&
      me.error_.empty()) {
    return me.guarded([&] {
      // nghttp2 ended the connection over something the upstream sent.
      me.error_ = std::string("the upstream broke HTTP/2's rules (GOAWAY ") +
                  nghttp2_http2_strerror(frame->goaway.error_code) + " sent)";
      return 0;
    });
  }
  return 0;
}

int ClientSession::on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream,
                                 const uint8_t* data, size_t len, void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  Stream* s = me.find(stream);
  if (s == nullptr || !s->answered) {
    // Nobody's, or before any head (nghttp2 refuses that; kept out all the same).
    nghttp2_session_consume(session, stream, len);
    return 0;
  }
  s->unconsumed += len;
  return me.guarded([&] {
    me.handler_.on_response_data(stream, {reinterpret_cast<const char*>(data), len});
    return 0;
  });
}

int ClientSession::on_stream_close_cb(nghttp2_session* session, int32_t stream, uint32_t error,
                                      void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  auto it = me.streams_.find(stream);
  if (it == me.streams_.end()) {
    return 0;
  }
  const Stream& s = *it->second;
  if (s.unconsumed > 0) {
    nghttp2_session_consume_connection(session, s.unconsumed);
  }
  // A reset "without error" before the response was whole is not a whole response, and an
  // answered stream "refused" is not one to send again.
  const bool cut_short = (error == NGHTTP2_NO_ERROR && !s.remote_ended) ||
                         (error == NGHTTP2_REFUSED_STREAM && s.answered);
  if (cut_short) {
    error = NGHTTP2_INTERNAL_ERROR;
  }
  const bool was_full = me.queued_ >= me.limits_.session_output;
  me.queued_ -= s.body.bytes.size();
  me.streams_.erase(it);
  me.tell_close(stream, error);
  if (was_full && me.queued_ < me.limits_.session_output) {
    me.handler_.on_output_room();
  }
  return 0;
}

ssize_t ClientSession::read_body(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                                 uint32_t* flags, nghttp2_data_source*, void* self) {
  auto& me = *static_cast<ClientSession*>(self);
  Stream* s = me.find(stream);
  if (s == nullptr) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  size_t taken = 0;
  const ssize_t rc = s->body.drain(buf, length, flags, taken);
  if (taken > 0) {
    const bool was_full = me.queued_ >= me.limits_.session_output;
    me.queued_ -= taken;
    // The handler keeps a note only: no exception, no call back in.
    me.handler_.on_body_sent(stream);
    if (was_full && me.queued_ < me.limits_.session_output) {
      me.handler_.on_output_room();
    }
  }
  return rc;
}

}  // namespace vigil::l7::http2

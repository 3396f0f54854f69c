// What both sides of an HTTP/2 connection (server_session.h, client_session.h) need from
// nghttp2's C interface: its options and callbacks held for the length of a constructor, a
// field pointing at bytes nghttp2 copies, a header field's size as RFC 9113 counts it, and the
// frames it has taken out.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>

#include "l7proxy/core/byte_buffer.h"

namespace vigil::l7::http2 {

// RFC 9113 6.5.2: a field counts its name, its value and 32 bytes of overhead.
inline constexpr size_t kFieldOverhead = 32;

inline std::string_view text(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

inline nghttp2_nv field(std::string_view name, std::string_view value) {
  // nghttp2 copies the bytes (NGHTTP2_NV_FLAG_NONE): nothing is written through these.
  return {const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
          const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

// The frames nghttp2 has for the peer appended to `out` until it holds `high_water` bytes or
// nothing is left: 0, or nghttp2's error. Stops as soon as `failed` is set (a callback of the
// session's failed it).
inline ssize_t take_frames(nghttp2_session* session, ByteBuffer& out, size_t high_water,
                           const bool& failed) {
  while (out.size() < high_water && !failed) {
    const uint8_t* frames = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session, &frames);
    if (n <= 0) {
      return n;
    }
    out.append(
        std::span<const char>(reinterpret_cast<const char*>(frames), static_cast<size_t>(n)));
  }
  return 0;
}

class SessionOptions {
 public:
  SessionOptions() {
    if (nghttp2_option_new(&option_) != 0) {
      throw std::runtime_error("HTTP/2: no memory for the session's options");
    }
  }
  ~SessionOptions() { nghttp2_option_del(option_); }
  SessionOptions(const SessionOptions&) = delete;
  SessionOptions& operator=(const SessionOptions&) = delete;
  nghttp2_option* get() const { return option_; }

 private:
  nghttp2_option* option_ = nullptr;
};

class SessionCallbacks {
 public:
  SessionCallbacks() {
    if (nghttp2_session_callbacks_new(&callbacks_) != 0) {
      throw std::runtime_error("HTTP/2: no memory for the session's callbacks");
    }
  }
  ~SessionCallbacks() { nghttp2_session_callbacks_del(callbacks_); }
  SessionCallbacks(const SessionCallbacks&) = delete;
  SessionCallbacks& operator=(const SessionCallbacks&) = delete;
  nghttp2_session_callbacks* get() const { return callbacks_; }

 private:
  nghttp2_session_callbacks* callbacks_ = nullptr;
};

}  // namespace vigil::l7::http2

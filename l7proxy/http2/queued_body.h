// A stream's body going out, on either side of an HTTP/2 connection (a response's on the
// server side, a request's on the client's): bytes queued by the proxy until nghttp2's data
// provider asks for them, bounded per stream and, with the session's running total, per
// session.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "l7proxy/core/byte_buffer.h"

namespace vigil::l7::http2 {

struct QueuedBody {
  explicit QueuedBody(size_t cap) : bytes(cap) {}

  // Bytes it takes now: `stream_cap` held for itself at most, `session_cap` for all streams
  // (`queued` of them held now).
  size_t room(size_t stream_cap, size_t queued, size_t session_cap) const {
    if (end || queued >= session_cap) {
      return 0;
    }
    const size_t here = bytes.size() < stream_cap ? stream_cap - bytes.size() : 0;
    return std::min(here, session_cap - queued);
  }

  // Queues the first `n` of `data` (n within room()); with `last` and the whole of `data`,
  // the body is whole. nghttp2's read of the stream goes on if it was waiting.
  void add(std::span<const char> data, size_t n, bool last, nghttp2_session* session,
           int32_t stream) {
    bytes.append(data.first(n));
    if (last && n == data.size()) {
      end = true;
    }
    if (deferred && (n > 0 || end)) {
      deferred = false;
      nghttp2_session_resume_data(session, stream);
    }
  }

  // A data provider's read: up to `length` bytes moved into `buf` (`taken` says how many),
  // the end flagged once the body is whole and drained, or NGHTTP2_ERR_DEFERRED (resumed by
  // add()) when nothing is queued yet. A drained buffer gives its block back (the thread
  // caches them).
  ssize_t drain(uint8_t* buf, size_t length, uint32_t* flags, size_t& taken) {
    taken = std::min(length, bytes.size());
    if (taken > 0) {
      std::memcpy(buf, bytes.data().data(), taken);
      bytes.consume(taken);
    }
    if (bytes.empty()) {
      bytes.release_if_empty();
      if (end) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      } else if (taken == 0) {
        deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(taken);
  }

  ByteBuffer bytes;       // not yet framed
  bool end = false;       // the last of it is queued
  bool deferred = false;  // nghttp2 waits for bytes
};

}  // namespace vigil::l7::http2

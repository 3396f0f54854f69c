// The chunked transfer coding (RFC 9112 section 7.1) decoded as bytes arrive, without
// buffering: each step takes what it can of the input and says which part of it was body
// data (a view into the input). Strict, as the message head is: a size line with anything but
// hex digits and an extension, a bare LF, chunk data longer than its size or a size past 64
// bits is an error and the connection closes. Extensions and trailer fields are dropped (this
// proxy forwards neither) after checking they hold no control character or bare line end and
// stay within their limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vigil::l7::http1 {

class ChunkedDecoder {
 public:
  struct Limits {
    size_t max_size_line = 4096;           // a chunk's size and its extensions
    size_t max_trailer_bytes = 16384;      // all trailer fields together
    uint64_t max_body_bytes = UINT64_MAX;  // the data of all chunks (413 past it)
  };

  ChunkedDecoder() = default;
  explicit ChunkedDecoder(Limits limits) : limits_(limits) {}

  struct Step {
    size_t consumed = 0;         // of the input given
    std::span<const char> data;  // body bytes among those consumed (empty: none this step)
    bool done = false;           // the last chunk and the trailer section are through
    std::string_view error;      // not empty: malformed; nothing more is taken
  };
  // Stops after each run of data, at the end, at an error, or when the input is used up;
  // call again with what was not consumed.
  Step next(std::span<const char> in);

  bool done() const { return state_ == State::kDone; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    kSize,
    kSizeSpace,  // whitespace after the size: only an extension may follow
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerLine,
    kTrailerLf,
    kEndLf,
    kDone,
    kFailed,
  };
  Step fail(Step s, std::string_view why);

  Limits limits_;
  State state_ = State::kSize;
  uint64_t size_ = 0;  // of the chunk being read, then what is left of it
  int digits_ = 0;
  size_t line_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  uint64_t body_bytes_ = 0;
};

}  // namespace vigil::l7::http1

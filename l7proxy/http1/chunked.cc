#include "l7proxy/http1/chunked.h"

#include <algorithm>

#include "l7proxy/http1/message_head.h"

namespace vigil::l7::http1 {
namespace {

// A control character other than HTAB: never in an extension or a trailer field.
bool control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && u != '\t') || u == 0x7f;
}

}  // namespace

ChunkedDecoder::Step ChunkedDecoder::fail(Step s, std::string_view why) {
  state_ = State::kFailed;
  s.error = why;
  return s;
}

ChunkedDecoder::Step ChunkedDecoder::next(std::span<const char> in) {
  Step s;
  if (state_ == State::kFailed) {
    s.error = "the chunked body was malformed already";
    return s;
  }
  while (s.consumed < in.size() && state_ != State::kDone) {
    if (state_ == State::kData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size_, in.size() - s.consumed));
      s.data = in.subspan(s.consumed, n);
      s.consumed += n;
      size_ -= n;
      body_bytes_ += n;
      if (size_ == 0) {
        state_ = State::kDataCr;
      }
      return s;  // one run of data a step: the caller forwards it before going on
    }
    const char c = in[s.consumed++];
    switch (state_) {
      case State::kSize:
      case State::kSizeSpace:
      case State::kExtension:
        if (++line_bytes_ > limits_.max_size_line) {
          return fail(s, "a chunk size line longer than its limit");
        }
        if (c == '\n') {
          return fail(s, "a chunk size line ends in LF without CR");
        }
        if (c == '\r') {
          if (digits_ == 0) {
            return fail(s, "a chunk without a size");
          }
          if (state_ == State::kSizeSpace) {
            return fail(s, "whitespace after a chunk size, and no extension");
          }
          state_ = State::kSizeLf;
        } else if (state_ == State::kExtension) {
          if (control(c)) {
            return fail(s, "a control character in a chunk extension");
          }
        } else if (c == ';') {
          if (digits_ == 0) {
            return fail(s, "a chunk without a size");
          }
          state_ = State::kExtension;
        } else if (c == ' ' || c == '\t') {
          if (digits_ == 0) {
            return fail(s, "whitespace before a chunk size");
          }
          state_ = State::kSizeSpace;
        } else if (state_ == State::kSizeSpace) {
          return fail(s, "whitespace inside a chunk size");
        } else if (const int v = hex_value(c); v >= 0) {
          if (++digits_ > 16) {
            return fail(s, "a chunk size past 64 bits");
          }
          size_ = size_ << 4 | static_cast<uint64_t>(v);
        } else {
          return fail(s, "a chunk size that is not hex digits");
        }
        break;
      case State::kSizeLf:
        if (c != '\n') {
          return fail(s, "a CR not followed by LF after a chunk size");
        }
        line_bytes_ = 0;
        digits_ = 0;
        if (size_ > limits_.max_body_bytes - body_bytes_) {
          return fail(s, "a chunked body longer than the limit");
        }
        state_ = size_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kDataCr:
        if (c != '\r') {
          return fail(s, "chunk data longer than its size");
        }
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') {
          return fail(s, "chunk data not followed by CRLF");
        }
        state_ = State::kSize;
        break;
      case State::kTrailerStart:
      case State::kTrailerLine:
        if (++trailer_bytes_ > limits_.max_trailer_bytes) {
          return fail(s, "trailer fields longer than their limit");
        }
        if (c == '\r') {
          state_ = state_ == State::kTrailerStart ? State::kEndLf : State::kTrailerLf;
        } else if (c == '\n') {
          return fail(s, "a trailer line ends in LF without CR");
        } else if (control(c)) {
          return fail(s, "a control character in a trailer field");
        } else if (state_ == State::kTrailerStart && (c == ' ' || c == '\t')) {
          return fail(s, "a trailer field folded onto a second line");
        } else {
          state_ = State::kTrailerLine;
        }
        break;
      case State::kTrailerLf:
        if (c != '\n') {
          return fail(s, "a CR not followed by LF in the trailer");
        }
        state_ = State::kTrailerStart;
        break;
      case State::kEndLf:
        if (c != '\n') {
          return fail(s, "a CR not followed by LF at the end of the body");
        }
        state_ = State::kDone;
        break;
      case State::kData:
      case State::kDone:
      case State::kFailed:
        break;  // not reached: handled above and by the loop's condition
    }
  }
  s.done = state_ == State::kDone;
  return s;
}

}  // namespace vigil::l7::http1

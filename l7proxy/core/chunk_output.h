// HTTP/1.1 chunked framing written straight into a connection's output: each chunk's size line,
// its data and its CRLF; and the last chunk (no trailers are sent on).
#pragma once

#include <charconv>
#include <span>
#include <string_view>

#include "l7proxy/core/byte_buffer.h"

namespace vigil::l7 {

inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

inline void append_chunk(ByteBuffer& out, std::span<const char> data) {
  char size[24];
  auto [end, ec] = std::to_chars(size, size + sizeof size - 2, data.size(), 16);
  *end++ = '\r';
  *end++ = '\n';
  out.append(std::span<const char>(size, static_cast<size_t>(end - size)));
  out.append(data);
  out.append(std::string_view("\r\n"));
}

}  // namespace vigil::l7

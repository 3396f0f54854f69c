// Splits a byte stream into newline-terminated lines with a hard limit on line length, so a
// peer that never sends '\n' cannot make us buffer without bound.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace vigil {

class LineFramer {
 public:
  explicit LineFramer(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  enum class Status {
    kOk,
    kOverflow,  // a line (complete or pending) exceeds the limit; the stream cannot be trusted
  };

  // Appends `bytes` and calls `on_line` for every complete line, without its "\n" or "\r\n".
  // Blank lines are skipped. After kOverflow the framer stays in overflow and emits nothing.
  Status feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line);

  size_t buffered_bytes() const { return buffer_.size() - start_; }
  // Memory held, for budgets: at least buffered_bytes().
  size_t capacity() const { return buffer_.capacity(); }
  size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  static constexpr size_t kKeptCapacity = size_t{64} * 1024;
  size_t max_line_bytes_;
  std::string buffer_;
  size_t start_ = 0;  // first byte not yet handed out
  size_t scan_ = 0;   // first byte not yet searched for '\n'
  bool overflowed_ = false;
};

}  // namespace vigil

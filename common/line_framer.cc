#include "common/line_framer.h"

namespace vigil {

LineFramer::Status LineFramer::feed(std::string_view bytes,
                                    const std::function<void(std::string_view)>& on_line) {
  if (overflowed_) {
    return Status::kOverflow;
  }
  buffer_.append(bytes);
  while (true) {
    const size_t nl = buffer_.find('\n', scan_);
    if (nl == std::string::npos) {
      scan_ = buffer_.size();
      break;
    }
    std::string_view line(buffer_.data() + start_, nl - start_);
    if (line.size() > max_line_bytes_) {
      overflowed_ = true;
      return Status::kOverflow;
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    start_ = scan_ = nl + 1;
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      on_line(line);
    }
  }
  if (buffered_bytes() > max_line_bytes_) {
    overflowed_ = true;
    return Status::kOverflow;
  }
  // Compact once the consumed prefix dominates, keeping appends amortised O(1).
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  // A megabyte line leaves its capacity behind; an idle framer gives it back, so what a peer
  // holds is what it has sent and not finished.
  if (buffer_.empty() && buffer_.capacity() > kKeptCapacity) {
    std::string().swap(buffer_);
  }
  return Status::kOk;
}

}  // namespace vigil

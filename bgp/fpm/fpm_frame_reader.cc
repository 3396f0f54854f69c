#include "bgp/fpm/fpm_frame_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace vigil::fpm {

std::span<uint8_t> FpmFrameReader::prepare(size_t n) {
  if (start_ > 0) {
    // What is left of a frame moves to the front: the buffer stays one frame and one read.
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (buffer_.size() < end_ + n) {
    buffer_.resize(end_ + n);
  }
  prepared_ = n;
  return {buffer_.data() + end_, n};
}

void FpmFrameReader::commit(size_t n) {
  end_ = std::min(end_ + std::min(n, prepared_), buffer_.size());
  prepared_ = 0;
}

void FpmFrameReader::append(std::span<const uint8_t> bytes) {
  std::span<uint8_t> room = prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), room.begin());
  commit(bytes.size());
}

Expected<std::optional<FpmFrame>> FpmFrameReader::next() {
  if (end_ - start_ < kFpmHeaderSize) {
    return std::optional<FpmFrame>{};
  }
  const uint8_t* header = buffer_.data() + start_;
  if (header[0] != kFpmVersion) {
    return fail("FPM protocol version " + std::to_string(header[0]) + ", not " +
                std::to_string(kFpmVersion));
  }
  const size_t length = size_t{header[2]} << 8 | header[3];
  if (length < kFpmHeaderSize) {
    return fail("an FPM frame of length " + std::to_string(length) + ", shorter than its " +
                std::to_string(kFpmHeaderSize) + "-byte header");
  }
  if (end_ - start_ < length) {
    return std::optional<FpmFrame>{};
  }
  FpmFrame frame{.type = header[1], .payload = {header + kFpmHeaderSize, length - kFpmHeaderSize}};
  start_ += length;
  return std::optional<FpmFrame>{frame};
}

}  // namespace vigil::fpm

// FPM's framing, as zebra's dplane_fpm_nl writes it (FRR's fpm/fpm.h): a 4-byte header
// (version 1; type 1 for netlink, 2 for protobuf; the frame's length in network order, the
// header included), then the payload: for netlink, one or more netlink messages. A frame is
// at most 65,535 bytes, so the reader never holds more than one frame and one read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/expected.h"

namespace vigil::fpm {

inline constexpr uint8_t kFpmVersion = 1;
inline constexpr uint8_t kFpmTypeNetlink = 1;
inline constexpr size_t kFpmHeaderSize = 4;

struct FpmFrame {
  uint8_t type = 0;                  // kFpmTypeNetlink, or another the caller skips
  std::span<const uint8_t> payload;  // valid until the reader is called again
};

class FpmFrameReader {
 public:
  // Room for up to `n` more bytes (what one read() may bring): read into it, then commit()
  // what came (at most what the last prepare() gave room for).
  std::span<uint8_t> prepare(size_t n);
  void commit(size_t n);
  // prepare() and commit() in one.
  void append(std::span<const uint8_t> bytes);

  // The next whole frame, nothing while it is still coming, or an error that makes the rest
  // of the stream meaningless (another version of the protocol, a length shorter than the
  // header): the connection is then closed, and zebra connects again and replays.
  Expected<std::optional<FpmFrame>> next();
  // Bytes held that are not yet a whole frame.
  size_t buffered() const { return end_ - start_; }
  // Forgets what is held: a new connection starts a new stream.
  void reset() { start_ = end_ = prepared_ = 0; }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0, end_ = 0;
  size_t prepared_ = 0;
};

}  // namespace vigil::fpm

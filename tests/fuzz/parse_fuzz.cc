// Fuzzes the XDP parser's host build: any bytes must give a result from the list, a packet
// parsed OK must have its offsets inside the frame, and the common-shape shortcut must agree
// with the step-by-step parse. ASan catches any read past the frame.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "parse_host.h"

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size heap copy, so ASan sees any read beyond the frame.
  std::vector<uint8_t> frame(data, data + size);
  vigil_packet p{};
  const int r = vigil_parse_frame(frame.data(), frame.size(), &p);
  if (r < 0 || r >= VIGIL_PARSE_RESULT_COUNT) {
    std::abort();
  }
  if (r == VIGIL_PARSE_OK &&
      (p.l3_offset > size || p.l4_offset > size || p.l3_offset + p.l3_length > size)) {
    std::abort();
  }
  // The common-shape shortcut must give what the step-by-step parse gives, field for field.
  vigil_packet general{};
  if (vigil_parse_frame_general(frame.data(), frame.size(), &general) != r ||
      (r == VIGIL_PARSE_OK && std::memcmp(&p, &general, sizeof(p)) != 0)) {
    std::abort();
  }
  return 0;
}

#include "sdwan/wireguard/tai64n.h"

#include <algorithm>

namespace vigil::wg {

Tai64n tai64n(std::chrono::system_clock::time_point when) {
  constexpr uint64_t kBase = 0x400000000000000aULL;  // TAI64's label for 1970 (2^62 + 10)
  constexpr uint32_t kWhitener = 0xffffff;           // nanoseconds below 2^24 dropped
  const auto since = when.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since);
  const uint64_t s = kBase + static_cast<uint64_t>(seconds.count());
  const auto ns = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since - seconds).count() & ~kWhitener);
  Tai64n out{};
  for (size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(s >> (56 - 8 * i));
  }
  for (size_t i = 0; i < 4; ++i) {
    out[8 + i] = static_cast<uint8_t>(ns >> (24 - 8 * i));
  }
  return out;
}

bool later(const Tai64n& a, const Tai64n& b) {
  return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end());
}

}  // namespace vigil::wg

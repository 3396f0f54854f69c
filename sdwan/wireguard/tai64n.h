// TAI64N timestamps, as initiations carry them (replay protection): 8 bytes of seconds since
// 1970 plus 2^62 + 10, then 4 bytes of nanoseconds, both big-endian. The nanoseconds are
// rounded down to a multiple of 2^24 (about 16.8 ms), as wireguard-go and the kernel do, so a
// timestamp says less about the sender's clock.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace vigil::wg {

using Tai64n = std::array<uint8_t, 12>;

Tai64n tai64n(std::chrono::system_clock::time_point when);

// Whether `a` is later than `b` (big-endian: byte order is time order). An equal timestamp
// is not later: a responder refuses it as a replay.
bool later(const Tai64n& a, const Tai64n& b);

}  // namespace vigil::wg

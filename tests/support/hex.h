// Bytes written as hex in tests, tools and benchmarks (known answers, recorded transcripts),
// and back. The text is the caller's own: odd lengths and non-hex characters are its bug.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::test {

inline std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

template <typename Bytes>
std::string to_hex(const Bytes& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace vigil::test

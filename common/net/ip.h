// IPv4/IPv6 addresses and prefixes, as the config, the FIB and the classifier share them:
// parsing with operator-facing errors, containment and overlap for semantic checks.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace vigil::net {

struct IpAddress {
  int family = 4;                   // 4 or 6
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static Expected<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  int max_prefix() const { return family == 4 ? 32 : 128; }
  // The family, then the bytes in order: as a defaulted <=> would have it, but as two 64-bit
  // compares instead of a call to memcmp (maps of a million prefixes compare them a lot).
  std::strong_ordering operator<=>(const IpAddress& other) const {
    if (family != other.family) {
      return family <=> other.family;
    }
    const uint64_t a = word(0), b = other.word(0);
    if (a != b) {
      return a <=> b;
    }
    return word(8) <=> other.word(8);
  }
  bool operator==(const IpAddress& other) const {
    return family == other.family && word(0) == other.word(0) && word(8) == other.word(8);
  }
  // Bytes [at, at + 8) as a big-endian word: words compare as the bytes do.
  uint64_t word(size_t at) const {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data() + at, 8);
    if constexpr (std::endian::native == std::endian::little) {
      v = __builtin_bswap64(v);
    }
    return v;
  }
};

struct Prefix {
  IpAddress address;  // host bits zero for a network prefix
  int length = 0;

  // A network: "10.1.0.0/16". Host bits set is an error naming the network meant.
  static Expected<Prefix> parse_network(std::string_view text);
  // An interface address: "10.1.1.1/24" (host bits allowed).
  static Expected<Prefix> parse_interface(std::string_view text);

  Prefix network() const;  // host bits cleared
  bool contains(const IpAddress& ip) const;
  bool overlaps(const Prefix& other) const;
  std::string to_string() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const Prefix&) const = default;
};

}  // namespace vigil::net

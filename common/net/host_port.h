// An IP address and port, as listeners are configured: "127.0.0.1:9550" or "[::1]:9550".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "common/net/ip.h"

namespace vigil::net {

struct HostPort {
  IpAddress address;
  uint16_t port = 0;

  // IPv6 needs brackets; the port is 1-65535. Errors quote the text and show the form.
  static Expected<HostPort> parse(std::string_view text);
  std::string to_string() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const HostPort&) const = default;
};

}  // namespace vigil::net

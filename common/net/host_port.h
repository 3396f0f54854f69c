// An IP address and port, as listeners are configured: "127.0.0.1:9550" or "[::1]:9550".
#pragma once

#include <sys/socket.h>

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
  // As a socket address for bind(2) or connect(2), AF_INET or AF_INET6 by the address's
  // family; returns its length.
  socklen_t to_sockaddr(sockaddr_storage& out) const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const HostPort&) const = default;
};

}  // namespace vigil::net

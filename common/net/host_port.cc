#include "common/net/host_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace vigil::net {

Expected<HostPort> HostPort::parse(std::string_view text) {
  const auto malformed = [text] {
    return fail("expected address:port (e.g. 127.0.0.1:9550 or [::1]:9550), got \"" +
                std::string(text) + "\"");
  };
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      return malformed();
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return malformed();
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("IPv6 addresses need brackets: [" + std::string(host) + "]:port");
    }
  }
  auto ip = IpAddress::parse(host);
  int port = -1;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!ip || ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return malformed();
  }
  return HostPort{*ip, static_cast<uint16_t>(port)};
}

std::string HostPort::to_string() const {
  return (address.family == 6 ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(port);
}

socklen_t HostPort::to_sockaddr(sockaddr_storage& out) const {
  out = sockaddr_storage{};
  if (address.family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    std::memcpy(&a->sin6_addr, address.bytes.data(), 16);
    return sizeof *a;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&out);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  std::memcpy(&a->sin_addr, address.bytes.data(), 4);
  return sizeof *a;
}

}  // namespace vigil::net

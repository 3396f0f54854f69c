#include "l7proxy/core/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace vigil::l7 {

Expected<UniqueFd> bind_listener(const net::HostPort& address) {
  const bool v6 = address.address.family == 6;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const auto failed = [&](const char* what) {
    return fail("listen on " + address.to_string() + ": " + what + ": " + std::strerror(errno));
  };
  if (!fd.valid()) {
    return failed("socket");
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return failed("setsockopt");
  }
  if (v6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  sockaddr_storage where{};
  const socklen_t length = address.to_sockaddr(where);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&where), length);
  if (bound != 0) {
    return failed("bind");
  }
  return fd;
}

Status start_listening(int fd, const net::HostPort& address, int backlog) {
  if (::listen(fd, backlog) != 0) {
    return fail("listen on " + address.to_string() + ": listen: " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace vigil::l7

// What the stand-alone HTTP servers in bench/ share (accept_dispatch_bench, event_loop_bench):
// the answer they give, their loopback listening socket, and a stop flag SIGTERM/SIGINT set.
// Only the part each one measures (how connections are dispatched, which event loop) is theirs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace vigil::bench {

inline std::atomic<bool> g_stop{false};

// SIGTERM and SIGINT set g_stop; the servers' loops check it at least every 100 ms.
inline void stop_on_signals() {
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
}

inline constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nhello world\n";
inline constexpr std::string_view kClosingResponse =
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    "\r\nhello world\n";

// A TCP socket listening on 127.0.0.1:`port` (backlog 4096); exits the process if it cannot.
inline int listening_socket(uint16_t port, bool reuseport, bool blocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

inline void no_delay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace vigil::bench

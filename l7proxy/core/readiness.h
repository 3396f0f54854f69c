// A client socket's readiness as an edge-triggered epoll reports it, kept between events: read
// until the read would wait, write likewise. Through TLS a read may wait for the socket to be
// writable (a record OpenSSL must send first) and a write for it to be readable; those waits
// end with the other direction's event.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

namespace vigil::l7 {

struct Readiness {
  bool readable = false;
  bool writable = true;
  bool peer_closed = false;  // EPOLLRDHUP/HUP/ERR seen: read until the end, not a short read
  bool read_wants_write = false;
  bool write_wants_read = false;

  void take(uint32_t events) {
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      readable = true;
    }
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      peer_closed = true;  // read on to the end: its news comes once, with the last data
    }
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
      writable = true;
    }
    if (read_wants_write && writable) {
      readable = true;
      read_wants_write = false;
    }
    if (write_wants_read && readable) {
      writable = true;
      write_wants_read = false;
    }
  }
};

}  // namespace vigil::l7

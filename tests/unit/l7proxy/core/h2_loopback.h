// The HTTP/2 test client (h2_test_client.h) over a real socket to a proxy on loopback: its
// frames out and the proxy's in until a condition holds.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "tests/unit/l7proxy/core/loopback_harness.h"
#include "tests/unit/l7proxy/http2/h2_test_client.h"

namespace vigil::l7 {

// Frames both ways on `fd` until `done` holds (true), or `limit` passes or the proxy closes
// without it (false).
inline bool run_h2_until(test::H2Client& client, int fd, const std::function<bool()>& done,
                         std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = client.output();
    if (!out.empty()) {
      send_all(fd, out);
    }
    if (done()) {
      return true;
    }
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 20) > 0) {
      char buf[65536];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        return done();
      }
      client.input(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  return false;
}

}  // namespace vigil::l7

// What the in-process proxy tests stand on: loopback sockets, a client's reads and writes,
// and a scripted backend that answers each request with what it saw.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "l7proxy/core/proxy.h"
#include "l7proxy/core/proxy_config.h"

namespace vigil::l7 {

inline uint16_t free_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A TCP socket listening on `address` at `port` (0: a free one), and the port it has.
inline std::pair<UniqueFd, uint16_t> listen_on(const char* address = "127.0.0.1",
                                               uint16_t port = 0) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &a.sin_addr);
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(listener.get(), 64);
  return {std::move(listener), ntohs(a.sin_port)};
}

// `config` with one route, everything to upstream "app", applied by a new one-worker proxy in
// `proxy`, as a commit would.
inline void run_routed_to_app(const std::shared_ptr<ProxyConfig>& config,
                              std::unique_ptr<Proxy>& proxy) {
  config->actions.resize(1);
  config->routes = *RouteTable::compile(
      {{.name = "all", .path_match = PathMatch::kPrefix, .path = "/", .upstream = "app"}});
  proxy = std::make_unique<Proxy>(1);
  auto prepared = proxy->prepare(config);
  ASSERT_TRUE(prepared) << prepared.error();
  ASSERT_TRUE(proxy->activate(std::move(*prepared)));
}

inline UniqueFd dial(uint16_t port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    return UniqueFd();
  }
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

inline void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until `done` says the bytes so far are whole, the peer closes, or 5 s pass.
inline std::string read_until(int fd, const std::function<bool(const std::string&)>& done) {
  std::string got;
  char buf[65536];
  while (!done(got)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

inline size_t content_length(const std::string& head) {
  const size_t at = head.find("Content-Length: ");
  return at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
}

// Whole responses in `s`: heads with Content-Length, or chunked bodies ending in 0 CRLF CRLF.
inline size_t whole_responses(const std::string& s) {
  size_t count = 0;
  size_t at = 0;
  for (;;) {
    const size_t end = s.find("\r\n\r\n", at);
    if (end == std::string::npos) {
      return count;
    }
    const std::string head = s.substr(at, end + 4 - at);
    if (head.find("Transfer-Encoding: chunked") != std::string::npos) {
      const size_t last = s.find("\r\n0\r\n\r\n", end);
      if (last == std::string::npos && s.compare(end + 4, 5, "0\r\n\r\n") != 0) {
        return count;
      }
      at = last == std::string::npos ? end + 9 : last + 7;
    } else {
      const size_t body = content_length(head);
      if (s.size() < end + 4 + body) {
        return count;
      }
      at = end + 4 + body;
    }
    ++count;
  }
}

inline std::string exchange(uint16_t port, std::string_view request, size_t responses = 1) {
  UniqueFd c = dial(port);
  send_all(c.get(), request);
  return read_until(c.get(), [&](const std::string& s) { return whole_responses(s) >= responses; });
}

// A backend: answers each request on a connection with what it saw, as JSON-ish text, keeping
// the connection unless told otherwise. `script` may replace the answer.
class Backend {
 public:
  using Script = std::function<std::string(const std::string& head, const std::string& body)>;

  // `early`: answer as soon as a head arrives, without reading its body, then hang up.
  // `address` and `port`: where it listens (any loopback address; port 0: a free one).
  explicit Backend(Script script = {}, bool early = false, const char* address = "127.0.0.1",
                   uint16_t port = 0)
      : script_(std::move(script)), early_(early) {
    std::tie(listener_, port_) = listen_on(address, port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Backend() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    {
      const std::lock_guard lock(mutex_);
      for (const UniqueFd& fd : open_) {
        ::shutdown(fd.get(), SHUT_RDWR);  // the proxy keeps them alive: handlers must not wait
      }
    }
    thread_.join();
    for (auto& t : connections_) {
      t.join();
    }
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::vector<std::string> heads() {
    const std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      ++accepted_;
      {
        const std::lock_guard lock(mutex_);
        open_.emplace_back(fd);  // closed after the handlers are joined, never reused before
      }
      connections_.emplace_back([this, fd] { handle(fd); });
    }
  }
  void handle(int socket_fd) {
    // Its end is the connection's end for the proxy (the descriptor itself closes later).
    struct Socket {
      int fd;
      int get() const { return fd; }
      ~Socket() { ::shutdown(fd, SHUT_RDWR); }
    } fd{socket_fd};
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string pending;
    char buf[65536];
    for (;;) {
      size_t end;
      while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) {
          return;
        }
        pending.append(buf, static_cast<size_t>(n));
      }
      const std::string head = pending.substr(0, end + 4);
      pending.erase(0, end + 4);
      std::string body;
      const bool chunked = head.find("Transfer-Encoding: chunked") != std::string::npos;
      if (early_) {
        send_all(fd.get(), script_(head, body));
        return;
      }
      if (chunked) {
        // Decoded here: sizes in hex, each chunk followed by CRLF, ended by 0 CRLF CRLF.
        for (;;) {
          size_t line;
          while ((line = pending.find("\r\n")) == std::string::npos) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n <= 0) {
              return;
            }
            pending.append(buf, static_cast<size_t>(n));
          }
          const size_t size = std::stoul(pending.substr(0, line), nullptr, 16);
          while (pending.size() < line + 2 + size + 2) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n <= 0) {
              return;
            }
            pending.append(buf, static_cast<size_t>(n));
          }
          body += pending.substr(line + 2, size);
          pending.erase(0, line + 2 + size + 2);
          if (size == 0) {
            break;
          }
        }
      } else {
        const size_t length = content_length(head);
        while (pending.size() < length) {
          const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
          if (n <= 0) {
            return;
          }
          pending.append(buf, static_cast<size_t>(n));
        }
        body = pending.substr(0, length);
        pending.erase(0, length);
      }
      {
        const std::lock_guard lock(mutex_);
        heads_.push_back(head);
      }
      std::string answer;
      if (script_) {
        answer = script_(head, body);
      } else {
        const std::string text =
            "saw " + head.substr(0, head.find("\r\n")) + " body " + std::to_string(body.size());
        answer =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
      }
      if (answer.empty()) {
        return;  // hang up without answering
      }
      send_all(fd.get(), answer);
      if (answer.find("X-Close-After: 1") != std::string::npos) {
        return;  // closed without saying so: the proxy finds out when it reuses it
      }
      if (answer.find("Connection: close") != std::string::npos ||
          answer.starts_with("HTTP/1.1 101")) {
        if (answer.starts_with("HTTP/1.1 101")) {
          // A tunnel: echo every byte back until the other side closes.
          for (;;) {
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n <= 0) {
              return;
            }
            send_all(fd.get(), std::string_view(buf, static_cast<size_t>(n)));
          }
        }
        return;
      }
    }
  }

  Script script_;
  bool early_ = false;
  UniqueFd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> connections_;
  std::mutex mutex_;
  std::vector<std::string> heads_;
  std::vector<UniqueFd> open_;  // accepted sockets
};

inline TargetSpec target(uint16_t port) {
  TargetSpec t;
  t.key = "127.0.0.1:" + std::to_string(port);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::memcpy(&t.address, &a, sizeof a);
  t.address_length = sizeof a;
  return t;
}

}  // namespace vigil::l7

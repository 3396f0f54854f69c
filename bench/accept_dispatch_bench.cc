// How new connections reach a worker's event loop, measured apart from the proxy so that only
// the dispatch differs (issue 26: "SO_REUSEPORT listeners, or one acceptor with a fair
// hand-off: measure both"). Three ways, the same workers behind each:
//
//   reuseport  each worker its own SO_REUSEPORT socket; the kernel hashes each connection to
//              one of them (vigil-l7's way);
//   handoff    one acceptor thread takes every connection and hands it to the worker with the
//              fewest open, through a queue and an eventfd;
//   exclusive  one socket watched by every worker with EPOLLEXCLUSIVE (nginx's default
//              without `reuseport`).
//
// Each worker serves HTTP/1.1 on its own epoll loop: reads to the end of a head, answers 12
// bytes, keeps the connection unless the request says `Connection: close`. Runs until SIGTERM
// or SIGINT, then prints one JSON line: connections and requests per worker.
//
//   accept_dispatch_bench --mode reuseport|handoff|exclusive --port P [--workers 2]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/loopback_http_server.h"

namespace {

using namespace vigil::bench;

class Worker {
 public:
  Worker()
      : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    watch(wake_, EPOLLIN, kWakeTag);
  }
  ~Worker() {
    for (auto& [fd, buffer] : connections_) {
      ::close(fd);
    }
    ::close(epoll_);
    ::close(wake_);
  }
  // A socket this worker accepts from (its own, or one it shares with EPOLLEXCLUSIVE).
  void listen_on(int fd, bool exclusive) {
    listener_ = fd;
    watch(fd, EPOLLIN | (exclusive ? EPOLLEXCLUSIVE : 0u), kListenerTag);
  }
  // From the acceptor's thread: counted open at once, so the next pick sees it.
  void hand(int fd) {
    open.fetch_add(1, std::memory_order_relaxed);
    {
      const std::lock_guard lock(mutex_);
      handed_.push_back(fd);
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_, &one, sizeof one);
  }
  void run() {
    epoll_event events[256];
    while (!g_stop) {
      const int n = ::epoll_wait(epoll_, events, 256, 100);
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        if (tag == kListenerTag) {
          accept_all();
        } else if (tag == kWakeTag) {
          adopt_handed();
        } else {
          serve(static_cast<int>(tag));
        }
      }
    }
  }

  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<int64_t> open{0};

 private:
  // Events name what they are for: a connection by its descriptor, or one of the two tags.
  static constexpr uint64_t kListenerTag = ~uint64_t{0};
  static constexpr uint64_t kWakeTag = ~uint64_t{0} - 1;

  void watch(int fd, uint32_t events, uint64_t tag) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = tag;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e);
  }
  void adopt(int fd, bool counted = false) {
    no_delay(fd);
    connections_.emplace(fd, std::string());
    watch(fd, EPOLLIN | EPOLLRDHUP, static_cast<uint64_t>(fd));
    connections.fetch_add(1, std::memory_order_relaxed);
    if (!counted) {
      open.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;  // EAGAIN: another worker took it, or none is left
      }
      adopt(fd);
    }
  }
  void adopt_handed() {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(wake_, &count, sizeof count);
    std::deque<int> handed;
    {
      const std::lock_guard lock(mutex_);
      handed.swap(handed_);
    }
    for (const int fd : handed) {
      adopt(fd, true);
    }
  }
  void close_connection(int fd) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections_.erase(fd);
    open.fetch_sub(1, std::memory_order_relaxed);
  }
  void serve(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) {
      return;
    }
    std::string& in = it->second;
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) {
          break;
        }
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        close_connection(fd);
        return;
      }
      break;
    }
    for (size_t end; (end = in.find("\r\n\r\n")) != std::string::npos;) {
      const std::string_view head(in.data(), end);
      const bool closing = head.find("onnection: close") != std::string_view::npos;
      const std::string_view answer = closing ? kClosingResponse : kResponse;
      // A dozen bytes to an empty socket buffer: the write is whole, or the test is void.
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(answer.size())) {
        close_connection(fd);
        return;
      }
      requests.fetch_add(1, std::memory_order_relaxed);
      in.erase(0, end + 4);
      if (closing) {
        close_connection(fd);
        return;
      }
    }
  }

  int epoll_;
  int wake_;
  int listener_ = -1;
  std::unordered_map<int, std::string> connections_;
  std::mutex mutex_;
  std::deque<int> handed_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "reuseport";
  uint16_t port = 0;
  size_t workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--mode") {
      mode = argv[i + 1];
    } else if (flag == "--port") {
      port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (flag == "--workers") {
      workers = static_cast<size_t>(std::atoi(argv[i + 1]));
    }
  }
  if (port == 0 || workers == 0 ||
      (mode != "reuseport" && mode != "handoff" && mode != "exclusive")) {
    std::fprintf(stderr,
                 "usage: accept_dispatch_bench --mode reuseport|handoff|exclusive --port P "
                 "[--workers N]\n");
    return 2;
  }
  stop_on_signals();
  std::vector<std::unique_ptr<Worker>> pool;
  for (size_t i = 0; i < workers; ++i) {
    pool.push_back(std::make_unique<Worker>());
  }
  std::vector<int> sockets;
  if (mode == "reuseport") {
    for (auto& w : pool) {
      sockets.push_back(listening_socket(port, true, false));
      w->listen_on(sockets.back(), false);
    }
  } else if (mode == "exclusive") {
    sockets.push_back(listening_socket(port, false, false));
    for (auto& w : pool) {
      w->listen_on(sockets.back(), true);
    }
  } else {
    sockets.push_back(listening_socket(port, false, true));
  }
  std::vector<std::thread> threads;
  threads.reserve(pool.size());
  for (auto& w : pool) {
    threads.emplace_back([&w] { w->run(); });
  }
  if (mode == "handoff") {
    // The acceptor: each connection to the worker with the fewest open (the fair hand-off).
    const int listener = sockets.front();
    while (!g_stop) {
      pollfd p{.fd = listener, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      Worker* least = pool.front().get();
      for (auto& w : pool) {
        if (w->open.load(std::memory_order_relaxed) < least->open.load(std::memory_order_relaxed)) {
          least = w.get();
        }
      }
      least->hand(fd);
    }
  }
  for (auto& t : threads) {
    t.join();
  }
  std::string out = "{\"mode\": \"" + mode + "\", \"connections\": [";
  for (size_t i = 0; i < pool.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(pool[i]->connections.load());
  }
  out += "], \"requests\": [";
  for (size_t i = 0; i < pool.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(pool[i]->requests.load());
  }
  out += "]}";
  std::puts(out.c_str());
  for (const int fd : sockets) {
    ::close(fd);
  }
  return 0;
}

// Which event loop under vigil-l7's workers (issue 26: "epoll or io_uring ... choose by
// measurement"), measured apart from the proxy so that only the loop differs. One thread
// serves HTTP/1.1 keep-alive on loopback: reads to the end of a head, answers 12 bytes. Three
// loops:
//
//   epoll      edge-triggered readiness, recv until a short read, send at once: vigil-l7's
//              Reactor, one syscall per operation plus one epoll_wait per batch of events;
//   uring      io_uring, one recv in flight per connection into its own buffer, the answer's
//              send queued as another operation, everything queued in a pass submitted with
//              the next wait (one io_uring_enter for the lot);
//   multishot  io_uring with one multishot recv per connection drawing from a ring of
//              provided buffers (no buffer held by an idle connection), sends queued as above,
//              and the ring set up SINGLE_ISSUER | DEFER_TASKRUN (completions run only when
//              this thread waits). The most io_uring offers on this kernel without a polling
//              thread (SQPOLL would take a core of the two this machine has).
//
// Runs until SIGTERM or SIGINT, then prints one JSON line: requests served.
//
//   event_loop_bench --mode epoll|uring|multishot --port P
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/loopback_http_server.h"

namespace {

using namespace vigil::bench;

constexpr size_t kBufferBytes = 16384;

// What every loop does with bytes read: the heads complete in `in` are answered (how many
// answers is returned) and consumed; a partial head stays for the next read.
size_t take_requests(std::string& in) {
  size_t answers = 0;
  size_t start = 0;
  for (size_t end; (end = in.find("\r\n\r\n", start)) != std::string::npos; start = end + 4) {
    ++answers;
  }
  in.erase(0, start);
  return answers;
}

uint64_t g_requests = 0;

// ---- epoll, as vigil-l7's Reactor does it ----

void run_epoll(int listener) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = listener;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &e);
  std::unordered_map<int, std::string> pending;
  std::string answers;
  epoll_event events[256];
  char buf[kBufferBytes];
  while (!g_stop) {
    const int n = ::epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (int c;
             (c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          no_delay(c);
          epoll_event ce{};
          ce.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
          ce.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
          pending.emplace(c, std::string());
        }
        continue;
      }
      std::string& in = pending[fd];
      bool closed = false;
      for (;;) {
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got > 0) {
          in.append(buf, static_cast<size_t>(got));
          if (static_cast<size_t>(got) < sizeof buf) {
            break;  // a short read: the socket is empty (no recv just to hear EAGAIN)
          }
          continue;
        }
        closed = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
      }
      const size_t count = take_requests(in);
      if (count > 0) {
        answers.clear();
        for (size_t k = 0; k < count; ++k) {
          answers.append(kResponse);
        }
        closed |= ::send(fd, answers.data(), answers.size(), MSG_NOSIGNAL) !=
                  static_cast<ssize_t>(answers.size());
        g_requests += count;
      }
      if (closed) {
        ::close(fd);  // also leaves the epoll set
        pending.erase(fd);
      }
    }
  }
  ::close(ep);
}

// ---- io_uring ----

// Each completion names its operation and connection in user_data: the kind in the top byte.
enum class Op : uint64_t { kAccept = 1, kRecv = 2, kSend = 3 };
uint64_t tag(Op op, int fd) {
  return (static_cast<uint64_t>(op) << 56) | static_cast<uint32_t>(fd);
}
Op op_of(uint64_t data) {
  return static_cast<Op>(data >> 56);
}
int fd_of(uint64_t data) {
  return static_cast<int>(static_cast<uint32_t>(data));
}

io_uring_sqe* next_sqe(io_uring& ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == nullptr) {  // the queue is full: hand it to the kernel and take a fresh slot
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  if (sqe == nullptr) {
    std::fprintf(stderr, "no submission slot after a submit\n");
    std::abort();
  }
  return sqe;
}

struct UringConnection {
  std::string in;
  std::string out;      // the answers being sent
  std::string waiting;  // answers made while a send is in flight
  char buf[kBufferBytes] = {};
  bool sending = false;
  bool ended = false;  // the peer closed while a send was in flight: closed once it completes
};

void queue_send(io_uring& ring, int fd, UringConnection& c) {
  c.out.swap(c.waiting);
  c.waiting.clear();
  io_uring_sqe* sqe = next_sqe(ring);
  io_uring_prep_send(sqe, fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag(Op::kSend, fd));
  c.sending = true;
}

void answer(io_uring& ring, int fd, UringConnection& c) {
  const size_t count = take_requests(c.in);
  for (size_t k = 0; k < count; ++k) {
    c.waiting.append(kResponse);
  }
  g_requests += count;
  if (!c.waiting.empty() && !c.sending) {
    queue_send(ring, fd, c);
  }
}

void queue_accept(io_uring& ring, int listener) {
  io_uring_sqe* sqe = next_sqe(ring);
  io_uring_prep_multishot_accept(sqe, listener, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag(Op::kAccept, listener));
}

// The provided-buffer ring the multishot receives draw from.
class BufferRing {
 public:
  static constexpr unsigned kCount = 256;  // a power of two, as the kernel wants
  static constexpr unsigned kGroup = 7;

  bool set_up(io_uring& ring) {
    const size_t bytes = kCount * sizeof(io_uring_buf);
    void* mapped =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mapped == MAP_FAILED) {
      return false;
    }
    ring_ = static_cast<io_uring_buf_ring*>(mapped);
    io_uring_buf_ring_init(ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(ring_);
    reg.ring_entries = kCount;
    reg.bgid = kGroup;
    if (io_uring_register_buf_ring(&ring, &reg, 0) != 0) {
      return false;
    }
    storage_.resize(size_t{kCount} * kBufferBytes);
    for (unsigned i = 0; i < kCount; ++i) {
      give_back(i);
    }
    return true;
  }
  char* buffer(unsigned id) { return storage_.data() + size_t{id} * kBufferBytes; }
  void give_back(unsigned id) {
    io_uring_buf_ring_add(ring_, buffer(id), kBufferBytes, static_cast<uint16_t>(id),
                          io_uring_buf_ring_mask(kCount), 0);
    io_uring_buf_ring_advance(ring_, 1);
  }

 private:
  io_uring_buf_ring* ring_ = nullptr;
  std::vector<char> storage_;
};

void queue_recv(io_uring& ring, int fd, UringConnection& c, bool multishot) {
  io_uring_sqe* sqe = next_sqe(ring);
  if (multishot) {
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BufferRing::kGroup;
  } else {
    io_uring_prep_recv(sqe, fd, c.buf, sizeof c.buf, 0);
  }
  io_uring_sqe_set_data64(sqe, tag(Op::kRecv, fd));
}

int run_uring(int listener, bool multishot) {
  io_uring ring{};
  io_uring_params params{};
  if (multishot) {
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  }
  if (const int rc = io_uring_queue_init_params(4096, &ring, &params); rc != 0) {
    std::fprintf(stderr, "io_uring_queue_init: %s\n", std::strerror(-rc));
    return 1;
  }
  BufferRing buffers;
  if (multishot && !buffers.set_up(ring)) {
    std::fprintf(stderr, "cannot register the provided buffers\n");
    return 1;
  }
  std::unordered_map<int, UringConnection> connections;
  queue_accept(ring, listener);
  __kernel_timespec tick{.tv_sec = 0, .tv_nsec = 100'000'000};
  while (!g_stop) {
    io_uring_cqe* cqe = nullptr;
    // One call: what this pass queued goes in, and it waits for at least one completion.
    const int rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &tick, nullptr);
    if (rc < 0 && rc != -ETIME && rc != -EINTR) {
      std::fprintf(stderr, "io_uring_submit_and_wait: %s\n", std::strerror(-rc));
      return 1;
    }
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const uint64_t data = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      const int fd = fd_of(data);
      switch (op_of(data)) {
        case Op::kAccept:
          if (res >= 0) {
            no_delay(res);
            queue_recv(ring, res, connections[res], multishot);
          }
          if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
            queue_accept(ring, listener);
          }
          break;
        case Op::kRecv: {
          auto it = connections.find(fd);
          if (it == connections.end()) {
            break;
          }
          UringConnection& c = it->second;
          if (res <= 0) {
            if (res == -ENOBUFS) {  // every provided buffer taken: arm again, nothing lost
              queue_recv(ring, fd, c, multishot);
              break;
            }
            if (c.sending) {
              c.ended = true;
            } else {
              ::close(fd);
              connections.erase(it);
            }
            break;
          }
          if (multishot) {
            const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            c.in.append(buffers.buffer(id), static_cast<size_t>(res));
            buffers.give_back(id);
            if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
              queue_recv(ring, fd, c, multishot);
            }
          } else {
            c.in.append(c.buf, static_cast<size_t>(res));
            queue_recv(ring, fd, c, multishot);
          }
          answer(ring, fd, c);
          break;
        }
        case Op::kSend: {
          auto it = connections.find(fd);
          if (it == connections.end()) {
            break;
          }
          UringConnection& c = it->second;
          c.sending = false;
          if (c.ended || res != static_cast<int>(c.out.size())) {
            ::close(fd);  // a dozen bytes a request: a short send means the peer is gone
            connections.erase(it);
            break;
          }
          if (!c.waiting.empty()) {
            queue_send(ring, fd, c);
          }
          break;
        }
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "epoll";
  uint16_t port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--mode") {
      mode = argv[i + 1];
    } else if (flag == "--port") {
      port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    }
  }
  if (port == 0 || (mode != "epoll" && mode != "uring" && mode != "multishot")) {
    std::fprintf(stderr, "usage: event_loop_bench --mode epoll|uring|multishot --port P\n");
    return 2;
  }
  stop_on_signals();
  const int listener = listening_socket(port, false, false);
  int rc = 0;
  if (mode == "epoll") {
    run_epoll(listener);
  } else {
    rc = run_uring(listener, mode == "multishot");
  }
  ::close(listener);
  std::printf("{\"mode\": \"%s\", \"requests\": %llu}\n", mode.c_str(),
              static_cast<unsigned long long>(g_requests));
  return rc;
}

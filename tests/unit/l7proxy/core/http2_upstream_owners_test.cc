// How the HTTP/2 upstream connection treats its owners (the requests' exchanges) when they
// go away at awkward moments, and how one connection's failure is told and counted: a worker's
// reactor run in the test thread, fake clients of the exchanges, a scripted nghttp2 server.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "l7proxy/core/upstream_exchange.h"
#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/core/worker.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

// An exchange's client: sends `to_send` body bytes as room comes, notes the answer.
class Fake final : public ExchangeClient {
 public:
  explicit Fake(Worker& w) : w_(w), ex(std::make_unique<UpstreamExchange>(w, *this)) {}
  ~Fake() {
    if (ex)
      ex->reset();
  }
  void go(const std::string& method = "GET", http1::Framing f = {}) {
    ex->request_head() =
        method + " /x HTTP/1.1\r\nHost: t\r\n" +
        (f.body == http1::Body::kLength ? "Content-Length: " + std::to_string(f.length) + "\r\n"
                                        : std::string()) +
        "\r\n";
    ex->start({.generation = w_.generation(), .pool = 0, .method = method, .framing = f});
  }
  void on_exchange_connected() override { ++connected; }
  void on_response_head(const http1::ResponseHead& h, const http1::Framing&) override {
    status = h.status;
  }
  bool response_room() const override { return room; }
  void on_response_body(std::span<const char> d) override { body.append(d.data(), d.size()); }
  void on_response_end() override {
    ended = true;
    ex->reset();
    if (done)
      done();
  }
  void on_exchange_failed(int s, std::string_view why) override {
    failed = true;
    status = s;
    reason = why;
    ex->reset();
    if (done)
      done();
  }
  void wake() override {
    ++wakes;
    if (hook) {
      auto h = hook;
      hook = nullptr;
      h();
    }
    drive();
  }
  void drive() {
    for (int i = 0; i < 100 && ex && ex->active(); ++i) {
      bool p = false;
      if (to_send > 0 && ex->body_room() > 0) {
        size_t n = std::min(to_send, ex->body_room());
        std::string chunk(n, 'b');
        ex->send_body(chunk);
        to_send -= n;
        p = true;
      }
      if (to_send == 0 && send_end && !ex->request_done()) {
        ex->end_body();
        p = true;
      }
      if (ex && ex->active())
        p |= ex->read_upstream();
      if (ex && ex->active())
        p |= ex->pump_response();
      if (ex && ex->active())
        p |= ex->flush_upstream();
      if (!p)
        break;
    }
  }
  Worker& w_;
  std::unique_ptr<UpstreamExchange> ex;
  std::function<void()> hook, done;
  int connected = 0, wakes = 0, status = 0;
  bool ended = false, failed = false;
  std::string body, reason;
  size_t to_send = 0;
  bool send_end = false;
  bool room = true;
};

// A scripted HTTP/2 server on one connection: `on_request(session, stream)` once a request's
// END_STREAM came (or at its HEADERS when `at_headers`); it may submit frames; what nghttp2
// has is sent in one write after each read.
struct H2Server {
  std::function<void(nghttp2_session*, int32_t)> on_request;
  bool at_headers = false;
  int pause_ms = 0;
  std::atomic<bool> stop{false};
  UniqueFd listener;
  uint16_t port = 0;
  std::thread t;
  std::vector<int32_t> streams;
  H2Server() { std::tie(listener, port) = listen_on(); }
  void run() {
    t = std::thread([this] {
      pollfd lp{.fd = listener.get(), .events = POLLIN, .revents = 0};
      if (::poll(&lp, 1, 5000) <= 0)
        return;
      UniqueFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      nghttp2_session_callbacks* cb;
      nghttp2_session_callbacks_new(&cb);
      nghttp2_session_callbacks_set_on_frame_recv_callback(
          cb, [](nghttp2_session* s, const nghttp2_frame* f, void* u) -> int {
            auto* me = static_cast<H2Server*>(u);
            const bool es = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
            if ((f->hd.type == NGHTTP2_HEADERS && (es || me->at_headers)) ||
                (f->hd.type == NGHTTP2_DATA && es && !me->at_headers)) {
              me->streams.push_back(f->hd.stream_id);
              if (me->on_request)
                me->on_request(s, f->hd.stream_id);
            }
            return 0;
          });
      nghttp2_session* s;
      nghttp2_session_server_new(&s, cb, this);
      nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, nullptr, 0);
      char buf[65536];
      while (!stop) {
        std::string out;
        const uint8_t* data;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(s, &data)) > 0)
          out.append(reinterpret_cast<const char*>(data), n);
        if (!out.empty())
          send_all(c.get(), out);
        pollfd p{.fd = c.get(), .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, 20) <= 0)
          continue;
        const ssize_t r = ::recv(c.get(), buf, sizeof buf, 0);
        if (r <= 0)
          break;
        if (nghttp2_session_mem_recv(s, reinterpret_cast<uint8_t*>(buf), r) < 0)
          break;
      }
      nghttp2_session_del(s);
      nghttp2_session_callbacks_del(cb);
    });
  }
  ~H2Server() {
    stop = true;
    if (t.joinable())
      t.join();
  }
};

std::shared_ptr<ProxyConfig> config_to(uint16_t port, uint32_t retries = 1) {
  auto c = std::make_shared<ProxyConfig>();
  UpstreamSpec u{.name = "app"};
  u.http2 = true;
  u.retries = retries;
  u.targets.push_back(target(port));
  u.connect_timeout = 500ms;
  u.response_timeout = 2000ms;
  c->upstreams.push_back(u);
  return c;
}

void run_for(Worker& w, std::chrono::milliseconds limit) {
  struct Stopper final : Timer {
    Worker& w;
    explicit Stopper(Worker& x) : w(x) {}
    void on_timer() override { w.reactor().stop(); }
  } stopper(w);
  w.reactor().timers().arm(stopper, limit, Reactor::Clock::now());
  w.reactor().run();
  w.reactor().timers().cancel(stopper);
}

nghttp2_nv nv(const char* n, const char* v) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(n)),
          reinterpret_cast<uint8_t*>(const_cast<char*>(v)), strlen(n), strlen(v),
          NGHTTP2_NV_FLAG_NONE};
}

// Two requests answered in one read: the first one's wake-up makes the second go away (as an
// HTTP/2 client connection closing in its drive destroys its other streams); the connection
// must not call it after.
TEST(Http2UpstreamOwners, AnOwnerGoneThroughAnEarlierWakeUpIsNotCalled) {
  H2Server server;
  int answered = 0;
  server.on_request = [&](nghttp2_session* s, int32_t) {
    if (++answered == 2) {
      nghttp2_nv h[] = {nv(":status", "200")};
      for (int32_t id : server.streams) {
        nghttp2_submit_response(s, id, h, 1, nullptr);
      }
    }
  };
  server.run();
  Worker w(0);
  w.apply(config_to(server.port), {}, nullptr, nullptr);
  Fake a(w), b(w);
  a.go();
  b.go();
  std::function<void()> drop_b;
  drop_b = [&] {
    if (a.status == 0 && !a.ended) {
      a.hook = drop_b;  // not yet: once a's answer came
      return;
    }
    b.ex.reset();
  };
  a.hook = drop_b;
  run_for(w, 1500ms);
  EXPECT_TRUE(a.ended);
  EXPECT_EQ(a.status, 200);
}

// A connect that fails with two requests waiting: the first's wake-up makes the second go.
TEST(Http2UpstreamOwners, AWaitingOwnerGoneThroughAnEarlierConnectFailureIsNotCalled) {
  const uint16_t nobody = free_port();
  Worker w(0);
  w.apply(config_to(nobody, 0), {}, nullptr, nullptr);
  Fake a(w), b(w);
  a.go();
  b.go();
  a.hook = [&] { b.ex.reset(); };
  run_for(w, 1000ms);
  EXPECT_TRUE(a.failed);
  EXPECT_EQ(a.status, 502);
}

// One failed connect is one failure of the target, however many requests waited for it.
TEST(Http2UpstreamOwners, OneFailedConnectCountsOnceAgainstTheTarget) {
  const uint16_t nobody = free_port();
  Worker w(0);
  w.apply(config_to(nobody, 0), {}, nullptr, nullptr);
  Fake a(w), b(w), c(w);
  a.go();
  b.go();
  c.go();
  run_for(w, 300ms);
  EXPECT_TRUE(a.failed && b.failed && c.failed);
  EXPECT_EQ(w.stats().upstream_connect_failures.load(), 1u);
  EXPECT_FALSE(w.generation()->pools[0].targets[0]->outlier.ejected(w.reactor().now()))
      << "3 requests, 1 failed connect: not 3 failures in a row";
}

// Many uploads on one connection to a server slow to start reading: the session's 1 MiB of
// queued request body fills, and streams that found no room are woken when room comes back.
TEST(Http2UpstreamOwners, UploadsWaitingForTheSessionsRoomAllFinish) {
  H2Server server;
  server.pause_ms = 300;
  server.on_request = [&](nghttp2_session* s, int32_t id) {
    nghttp2_nv h[] = {nv(":status", "200")};
    nghttp2_submit_response(s, id, h, 1, nullptr);
  };
  server.run();
  Worker w(0);
  w.apply(config_to(server.port), {}, nullptr, nullptr);
  constexpr size_t kBody = size_t{300} * 1024;
  std::vector<std::unique_ptr<Fake>> fakes;
  for (int i = 0; i < 24; ++i) {
    fakes.push_back(std::make_unique<Fake>(w));
    Fake& f = *fakes.back();
    f.to_send = kBody;
    f.send_end = true;
    f.go("POST", {.body = http1::Body::kLength, .length = kBody});
    f.drive();
  }
  run_for(w, 4000ms);
  for (const auto& f : fakes) {
    EXPECT_TRUE(f->ended) << "to send " << f->to_send << ", woken " << f->wakes;
  }
}

// The server accepts and closes at once: the connection comes up and ends in one turn. The
// requests waiting for it fail at once (502: no retries here), not at the response timeout.
TEST(Http2UpstreamOwners, AConnectionEndingAsItComesUpFailsItsRequestsAtOnce) {
  auto [listener, port] = listen_on();
  std::thread acceptor(
      [fd = listener.get()] { UniqueFd c(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)); });
  Worker w(0);
  w.apply(config_to(port, 0), {}, nullptr, nullptr);
  Fake a(w), b(w);
  a.go();
  b.go();
  acceptor.join();
  listener.reset();                    // nobody to try again with
  std::this_thread::sleep_for(100ms);  // closed before the worker sees its connect
  run_for(w, 1000ms);
  EXPECT_TRUE(a.failed);
  EXPECT_TRUE(b.failed);
  EXPECT_EQ(a.status, 502) << a.reason;
  EXPECT_EQ(b.status, 502) << b.reason;
  EXPECT_EQ(w.stats().upstream_connect_failures.load(), 1u) << "one connection, one failure";
}

// A response whole on the connection while its client has no room for it, then the
// connection ends (the server goes away): the response is the exchange's own by then, and
// reaches the client once it has room.
TEST(Http2UpstreamOwners, AResponseWaitingForItsClientOutlivesItsConnection) {
  H2Server server;
  static std::string body(1000, 'r');
  server.on_request = [&](nghttp2_session* s, int32_t id) {
    nghttp2_nv h[] = {nv(":status", "200")};
    nghttp2_data_provider provider{};
    provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source*, void*) -> ssize_t {
      const size_t n = std::min(length, body.size());
      body.copy(reinterpret_cast<char*>(buf), n);
      body.erase(0, n);
      if (body.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      }
      return static_cast<ssize_t>(n);
    };
    nghttp2_submit_response(s, id, h, 1, &provider);
  };
  server.run();
  Worker w(0);
  w.apply(config_to(server.port), {}, nullptr, nullptr);
  Fake a(w);
  a.room = false;
  a.go();
  run_for(w, 300ms);
  EXPECT_FALSE(a.ended);
  server.stop = true;  // the server closes the connection
  server.t.join();
  run_for(w, 300ms);  // the connection ends, and is reaped
  a.room = true;
  a.drive();
  EXPECT_TRUE(a.ended);
  EXPECT_EQ(a.body.size(), 1000u);
}

// Requests with large heads toward a server that reads nothing: HEADERS queue up in the
// session; nothing loops, nothing crashes, and every request ends one way or the other.
TEST(Http2UpstreamOwners, ASessionFullOfQueuedHeadsDoesNotLoop) {
  auto [listener, port] = listen_on();
  std::thread acceptor([fd = listener.get()] {
    UniqueFd c(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    std::this_thread::sleep_for(1500ms);  // reads nothing
  });
  Worker w(0);
  w.apply(config_to(port), {}, nullptr, nullptr);
  std::vector<std::unique_ptr<Fake>> fakes;
  const std::string big(60000, 'v');
  for (int i = 0; i < 100; ++i) {
    fakes.push_back(std::make_unique<Fake>(w));
    Fake& f = *fakes.back();
    f.ex->request_head() =
        "GET /x HTTP/1.1\r\nHost: t\r\nX-Big-" + std::to_string(i) + ": " + big + "\r\n\r\n";
    f.ex->start({.generation = w.generation(), .pool = 0, .method = "GET", .framing = {}});
  }
  run_for(w, 1000ms);
  fakes.clear();
  acceptor.join();
}

}  // namespace
}  // namespace vigil::l7

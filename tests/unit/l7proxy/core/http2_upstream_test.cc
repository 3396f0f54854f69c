// Upstreams that speak HTTP/2, end to end on loopback in process: clients (HTTP/1.1 and
// HTTP/2) of a front proxy whose pool speaks HTTP/2 to a second proxy (h2c with prior
// knowledge, the real server side), which passes the requests to a scripted HTTP/1.1 backend.
// Many requests share one upstream connection; bodies go both ways through the windows; a
// target that is not there, one that does not speak HTTP/2 and a client that goes away end as
// they should.
#include "l7proxy/core/http2_upstream.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "l7proxy/core/proxy.h"
#include "tests/unit/l7proxy/core/h2_loopback.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"
#include "tests/unit/l7proxy/http2/h2_test_client.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

class Http2UpstreamTest : public testing::Test {
 protected:
  // The back proxy (h2c) in front of `backend_port`, and the front one whose pool speaks
  // HTTP/2 to the back one (or to `front_target` when given).
  void start(uint16_t backend_port, uint16_t front_target = 0) {
    auto back = std::make_shared<ProxyConfig>();
    back_port_ = free_port();
    back->listeners.push_back(
        {.name = "back",
         .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(back_port_))});
    UpstreamSpec app{.name = "app"};
    app.targets.push_back(target(backend_port));
    back->upstreams.push_back(app);
    run_routed_to_app(back, back_);

    auto front = std::make_shared<ProxyConfig>();
    front_port_ = free_port();
    front->listeners.push_back(
        {.name = "front",
         .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(front_port_))});
    UpstreamSpec h2{.name = "app"};
    h2.http2 = true;
    h2.targets.push_back(target(front_target != 0 ? front_target : back_port_));
    h2.connect_timeout = 500ms;
    h2.response_timeout = 2000ms;
    front->upstreams.push_back(h2);
    run_routed_to_app(front, front_);
  }

  // An HTTP/2 client of the front proxy: frames both ways until `done` holds.
  bool run_h2_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    if (!socket_.valid()) {
      socket_ = dial(front_port_);
    }
    return l7::run_h2_until(client_, socket_.get(), done, limit);
  }
  bool answered(int32_t id) { return client_.responses[id].closed; }
  static uint64_t stat(Proxy& p, const char* name) { return p.stats()[name].get<uint64_t>(); }

  uint16_t back_port_ = 0;
  uint16_t front_port_ = 0;
  std::unique_ptr<Proxy> back_;
  std::unique_ptr<Proxy> front_;
  UniqueFd socket_;
  test::H2Client client_;
};

TEST_F(Http2UpstreamTest, Http1ClientsRequestsGoUpAsStreamsOnOneConnection) {
  Backend backend;
  start(backend.port());
  for (int i = 0; i < 3; ++i) {
    const std::string got =
        l7::exchange(front_port_, "GET /one?i=" + std::to_string(i) +
                                      " HTTP/1.1\r\nHost: example.test\r\nX-Custom: kept\r\n"
                                      "Connection: keep-alive\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
    EXPECT_NE(got.find("saw GET /one?i=" + std::to_string(i) + " HTTP/1.1 body 0"),
              std::string::npos)
        << got;
  }
  const auto heads = backend.heads();
  ASSERT_EQ(heads.size(), 3u);
  // The back proxy got them over HTTP/2: the Host as :authority, the custom field kept.
  EXPECT_NE(heads[0].find("Host: example.test\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[0].find("x-custom: kept\r\n"), std::string::npos) << heads[0];
  EXPECT_EQ(stat(*back_, "http2_connections"), 1u);  // one connection for all three
  EXPECT_EQ(stat(*front_, "upstream_connects"), 1u);
  EXPECT_EQ(stat(*front_, "upstream_reused"), 2u);
}

TEST_F(Http2UpstreamTest, ConcurrentStreamsAndBodiesBothWaysPastTheWindows) {
  const std::string big(size_t{1} << 20, 'r');
  Backend backend([&](const std::string& head, const std::string& body) {
    if (head.starts_with("GET")) {
      return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
    }
    const std::string text = "got " + std::to_string(body.size());
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
  });
  start(backend.port());
  const std::string upload(size_t{3} << 20, 'u');
  std::vector<int32_t> gets;
  gets.reserve(6);
  for (int i = 0; i < 6; ++i) {
    gets.push_back(client_.request("GET", "/big/" + std::to_string(i)));
  }
  const int32_t put = client_.request("PUT", "/up", {}, &upload);  // no length: chunked at the end
  ASSERT_TRUE(run_h2_until(
      [&] {
        return answered(put) &&
               std::all_of(gets.begin(), gets.end(), [&](int32_t id) { return answered(id); });
      },
      10s));
  for (const int32_t id : gets) {
    EXPECT_EQ(client_.responses[id].error, 0u);
    EXPECT_TRUE(client_.responses[id].body == big) << client_.responses[id].body.size();
  }
  EXPECT_EQ(client_.responses[put].body, "got 3145728");
  EXPECT_EQ(stat(*back_, "http2_connections"), 1u);
}

TEST_F(Http2UpstreamTest, ResponsesWithoutLengthAreChunkedToHttp1Clients) {
  Backend backend([](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });
  start(backend.port());
  const std::string got = exchange(front_port_, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), std::string::npos) << got;
}

TEST_F(Http2UpstreamTest, ATargetNotListeningIs502) {
  Backend backend;
  const uint16_t nobody = free_port();
  start(backend.port(), nobody);
  const std::string got = l7::exchange(front_port_, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 502 ")) << got;
  EXPECT_GE(stat(*front_, "upstream_connect_failures"), 1u);
}

TEST_F(Http2UpstreamTest, ATargetThatSpeaksOnlyHttp1FailsTheRequestNotTheProxy) {
  // An HTTP/1.1 server reads the preface as a bad request and answers 4xx, then closes.
  Backend http1([](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  Backend backend;
  start(backend.port(), http1.port());
  const std::string got = l7::exchange(front_port_, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 502 ")) << got;
  // And the next request is answered (502 again) rather than hanging.
  const std::string again =
      l7::exchange(front_port_, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_TRUE(again.starts_with("HTTP/1.1 502 ")) << again;
}

TEST_F(Http2UpstreamTest, AClientResettingItsStreamResetsTheUpstreamOne) {
  // A backend that takes the request and never answers: it sees its connection closed once
  // the reset has gone client -> front proxy -> (RST_STREAM) -> back proxy -> its exchange.
  auto [listener, port] = listen_on();
  std::atomic<bool> got_request{false};
  std::atomic<bool> saw_close{false};
  std::thread backend([&, fd = listener.get()] {
    UniqueFd c(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
      if (n <= 0) {
        return;
      }
      head.append(buf, static_cast<size_t>(n));
    }
    got_request = true;
    pollfd pf{.fd = c.get(), .events = POLLIN, .revents = 0};
    if (::poll(&pf, 1, 3000) > 0 && ::recv(c.get(), buf, sizeof buf, 0) == 0) {
      saw_close = true;
    }
  });
  start(port);
  const int32_t id = client_.request("GET", "/slow");
  EXPECT_TRUE(run_h2_until([&] { return got_request.load(); }));
  client_.cancel(id);
  EXPECT_TRUE(run_h2_until([&] { return saw_close.load(); }, 3s));
  backend.join();
  EXPECT_TRUE(saw_close);
}

TEST_F(Http2UpstreamTest, UpgradeRequestsAreRefused) {
  Backend backend;
  start(backend.port());
  const std::string got = l7::exchange(
      front_port_,
      "GET /ws HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 502 ")) << got;
  EXPECT_TRUE(backend.heads().empty());
}

// A commit that drops the target while an HTTP/2 connection to it is still being made (a
// listener whose queue is full: the connect hangs), and the connect then times out: the
// request is answered 50x, the connection goes with its target, and the proxy goes on.
TEST_F(Http2UpstreamTest, ACommitDroppingATargetWhoseConnectionIsBeingMade) {
  Backend backend;
  auto [hole, hole_port] = listen_on();
  ::listen(hole.get(), 0);
  std::vector<UniqueFd> fill;
  for (int i = 0; i < 3; ++i) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(hole_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Non-blocking: under way (EINPROGRESS), and left so, filling the queue.
    [[maybe_unused]] const int rc = ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    fill.push_back(std::move(s));
  }
  std::this_thread::sleep_for(50ms);
  start(backend.port(), hole_port);
  UniqueFd c = dial(front_port_);
  send_all(c.get(), "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  auto next = std::make_shared<ProxyConfig>(*front_->config());
  next->upstreams[0].targets = {target(back_port_)};
  auto prepared = front_->prepare(next);
  ASSERT_TRUE(prepared) << prepared.error();
  ASSERT_TRUE(front_->activate(std::move(*prepared)));
  const std::string got =
      read_until(c.get(), [](const std::string& s) { return whole_responses(s) >= 1; });
  EXPECT_TRUE(got.starts_with("HTTP/1.1 50")) << got;
  const std::string again =
      l7::exchange(front_port_, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_TRUE(again.starts_with("HTTP/1.1 200")) << again;
}

}  // namespace
}  // namespace vigil::l7

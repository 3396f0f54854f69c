// HTTP/2 clients of the proxy end to end on loopback, in process: nghttp2's own client over a
// real socket to a real Proxy (h2c with prior knowledge), its requests going to the scripted
// HTTP/1.1 backends as HTTP/1.1. What comes back, what the backend saw, and what happens to
// the upstream side when a client resets a stream or asks for more than a limit allows.
#include "l7proxy/core/http2_connection.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "l7proxy/core/proxy.h"
#include "tests/unit/l7proxy/core/h2_loopback.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"
#include "tests/unit/l7proxy/http2/h2_test_client.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

class Http2Test : public testing::Test {
 protected:
  void start(uint16_t target_port, const std::function<void(ProxyConfig&)>& tweak = {}) {
    auto config = std::make_shared<ProxyConfig>();
    port_ = free_port();
    config->listeners.push_back(
        {.name = "web", .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(port_))});
    UpstreamSpec upstream{.name = "app"};
    upstream.targets.push_back(target(target_port));
    upstream.connect_timeout = 500ms;
    upstream.response_timeout = 1000ms;
    config->upstreams.push_back(upstream);
    if (tweak) {
      tweak(*config);
    }
    run_routed_to_app(config, proxy_);
    socket_ = dial(port_);  // the client's first output is the preface: h2c, prior knowledge
  }

  // Frames both ways until `done` holds (or `limit` passes).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    return run_h2_until(client_, socket_.get(), done, limit);
  }
  bool answered(int32_t id) { return client_.responses[id].closed; }
  uint64_t stat(const char* name) { return proxy_->stats()[name].get<uint64_t>(); }

  uint16_t port_ = 0;
  std::unique_ptr<Proxy> proxy_;
  UniqueFd socket_;
  test::H2Client client_;
};

TEST_F(Http2Test, RequestsOnOneConnectionGoUpAsHttp1AndComeBack) {
  Backend backend;
  start(backend.port());
  const int32_t a = client_.request("GET", "/one?x=1");
  const int32_t b = client_.request("GET", "/two", {{"x-client-subject", "CN=admin"}});
  ASSERT_TRUE(run_until([&] { return answered(a) && answered(b); }));
  EXPECT_EQ(client_.responses[a].status, 200);
  EXPECT_EQ(client_.responses[a].body, "saw GET /one?x=1 HTTP/1.1 body 0");
  EXPECT_EQ(client_.responses[b].body, "saw GET /two HTTP/1.1 body 0");
  EXPECT_EQ(client_.responses[a].error, 0u);
  const auto heads = backend.heads();
  ASSERT_EQ(heads.size(), 2u);
  for (const std::string& head : heads) {
    EXPECT_NE(head.find("Host: example.test\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Forwarded-Proto: http\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Request-Id: "), std::string::npos) << head;
    EXPECT_EQ(head.find("CN=admin"), std::string::npos) << "a forged client-certificate subject";
  }
  EXPECT_EQ(stat("http2_connections"), 1u);
  EXPECT_EQ(stat("requests"), 2u);
}

TEST_F(Http2Test, BodiesGoUpWithTheirLengthOrChunkedAndLargeOnesStream) {
  Backend backend;
  start(backend.port());
  const std::string small(1000, 'x');
  const std::string large(size_t{3} << 20, 'y');  // many times the stream's window
  const int32_t a = client_.request("POST", "/a", {{"content-length", "1000"}}, &small);
  const int32_t b = client_.request("PUT", "/b", {}, &large);  // no length: chunked upstream
  ASSERT_TRUE(run_until([&] { return answered(a) && answered(b); }));
  EXPECT_EQ(client_.responses[a].body, "saw POST /a HTTP/1.1 body 1000");
  EXPECT_EQ(client_.responses[b].body, "saw PUT /b HTTP/1.1 body 3145728");
  const auto heads = backend.heads();
  ASSERT_EQ(heads.size(), 2u);
  const bool a_first = heads[0].starts_with("POST");
  EXPECT_NE(heads[a_first ? 0 : 1].find("Content-Length: 1000\r\n"), std::string::npos);
  EXPECT_NE(heads[a_first ? 1 : 0].find("Transfer-Encoding: chunked\r\n"), std::string::npos);
}

TEST_F(Http2Test, LargeResponsesOnManyStreamsArriveWhole) {
  // Each many times the stream's window and the proxy's per-stream queue: moved only as the
  // client's WINDOW_UPDATEs and the connection's output make room, stream by stream.
  const std::string big(size_t{1} << 20, 'r');
  Backend backend([&](const std::string&, const std::string&) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  });
  start(backend.port());
  std::vector<int32_t> ids;
  ids.reserve(8);
  for (int i = 0; i < 8; ++i) {
    ids.push_back(client_.request("GET", "/big/" + std::to_string(i)));
  }
  ASSERT_TRUE(run_until([&] {
    return std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return answered(id); });
  }));
  for (const int32_t id : ids) {
    EXPECT_EQ(client_.responses[id].error, 0u);
    EXPECT_TRUE(client_.responses[id].body == big) << client_.responses[id].body.size();
  }
}

TEST_F(Http2Test, ResponseFieldsArriveInLowerCaseWithoutHopByHopOnes) {
  Backend backend([](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 201 Created\r\nX-Custom: 1\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 2\r\n"
        "Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });
  start(backend.port());
  const int32_t a = client_.request("GET", "/");
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  EXPECT_EQ(client_.responses[a].status, 201);
  EXPECT_EQ(client_.responses[a].body, "hello");
  EXPECT_EQ(client_.responses[a].error, 0u);  // nghttp2 refuses connection-specific fields
}

TEST_F(Http2Test, RefusalsAnswerTheStreamAndKeepTheConnection) {
  Backend backend;
  start(backend.port(), [](ProxyConfig& c) { c.settings.max_body_bytes = 100; });
  const std::string body(200, 'z');
  const int32_t big = client_.request("POST", "/", {{"content-length", "200"}}, &body);
  const int32_t bad = client_.request("GET", "/a/%2e%2e%2fetc");
  ASSERT_TRUE(run_until([&] { return answered(big) && answered(bad); }));
  EXPECT_EQ(client_.responses[big].status, 413);
  EXPECT_EQ(client_.responses[bad].status, 400);
  const int32_t fine = client_.request("GET", "/ok");
  ASSERT_TRUE(run_until([&] { return answered(fine); }));
  EXPECT_EQ(client_.responses[fine].status, 200);
  EXPECT_EQ(backend.heads().size(), 1u);
}

TEST_F(Http2Test, AStreamResetByTheClientCutsItsUpstreamExchange) {
  // The backend never answers: the request hangs until the client gives up on it.
  std::atomic<int> seen{0};
  Backend backend([&](const std::string&, const std::string&) {
    ++seen;
    std::this_thread::sleep_for(300ms);
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
  });
  start(backend.port());
  const int32_t a = client_.request("GET", "/slow");
  ASSERT_TRUE(run_until([&] { return seen.load() == 1; }));
  client_.cancel(a);
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  EXPECT_EQ(client_.responses[a].status, 0);
  // The next request is served on a new upstream connection: the reset one is not pooled
  // with a late answer waiting in it.
  const int32_t b = client_.request("GET", "/next");
  ASSERT_TRUE(run_until([&] { return answered(b); }));
  EXPECT_EQ(client_.responses[b].body, "late");
  EXPECT_EQ(backend.accepted(), 2);
}

TEST_F(Http2Test, StreamsResetInTheReadThatOpenedThemCostNoUpstreamConnection) {
  Backend backend;
  start(backend.port());
  // Opened and reset in one write, as a rapid-reset attacker sends them.
  for (int i = 0; i < 50; ++i) {
    client_.cancel(client_.request("GET", "/reset"));
  }
  const int32_t fine = client_.request("GET", "/fine");
  ASSERT_TRUE(run_until([&] { return answered(fine); }));
  EXPECT_EQ(client_.responses[fine].status, 200);
  EXPECT_EQ(backend.accepted(), 1);
  ASSERT_EQ(backend.heads().size(), 1u);
  EXPECT_TRUE(backend.heads()[0].starts_with("GET /fine ")) << backend.heads()[0];
}

TEST_F(Http2Test, AnUpstreamThatCannotBeReachedIs502OnTheStream) {
  const uint16_t nobody = free_port();
  start(nobody);
  const int32_t a = client_.request("GET", "/");
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  EXPECT_EQ(client_.responses[a].status, 502);
  EXPECT_EQ(client_.responses[a].body, "Bad Gateway\n");
}

TEST_F(Http2Test, ASchemeOtherThanHttpIs400) {
  Backend backend;
  start(backend.port());
  client_.scheme = "ftp";  // nghttp2 then asks no :path of it
  const int32_t a = client_.request("GET", "/");
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  EXPECT_EQ(client_.responses[a].status, 400);
  EXPECT_EQ(backend.heads().size(), 0u);
}

TEST_F(Http2Test, AStalledStreamTimesOutThoughTheConnectionIsBusy) {
  Backend backend;
  start(backend.port(), [](ProxyConfig& c) { c.settings.idle_timeout = 300ms; });
  // A POST whose body never comes, on a connection kept busy with PINGs: the stream's own
  // idleness ends it.
  const int32_t a = client_.request("POST", "/", {{"content-length", "10"}}, nullptr, true);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!answered(a) && std::chrono::steady_clock::now() < deadline) {
    client_.ping();
    run_until([&] { return answered(a); }, 100ms);
  }
  ASSERT_TRUE(answered(a));
  EXPECT_NE(client_.responses[a].error, 0u);  // reset, not answered
}

TEST_F(Http2Test, PingsDoNotKeepAnIdleConnectionOpen) {
  Backend backend;
  start(backend.port(), [](ProxyConfig& c) { c.settings.idle_timeout = 300ms; });
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (client_.goaway < 0 && std::chrono::steady_clock::now() < deadline) {
    client_.ping();
    run_until([&] { return client_.goaway >= 0; }, 100ms);
  }
  EXPECT_EQ(client_.goaway, 0);
}

TEST_F(Http2Test, AnAnsweredStreamTheClientNeverReadsEndsTheConnection) {
  Backend backend([](const std::string&, const std::string&) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'x');
  });
  start(backend.port(), [](ProxyConfig& c) { c.settings.idle_timeout = 300ms; });
  client_.setting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0);  // no DATA may come
  const int32_t a = client_.request("GET", "/");
  ASSERT_TRUE(run_until([&] { return client_.responses[a].status == 200; }));
  // The upstream's answer is whole and its connection pooled; the stream waits on a window
  // the client never opens. The connection ends after the idle timeout.
  const auto before = stat("timeouts");
  EXPECT_TRUE(run_until([&] { return false; }, 2s) == false);
  EXPECT_GT(stat("timeouts"), before);
  char byte;
  EXPECT_EQ(::recv(socket_.get(), &byte, 1, MSG_DONTWAIT), 0) << "closed";
}

TEST_F(Http2Test, AClientThatHalfClosesStillGetsItsAnswer) {
  Backend backend([](const std::string&, const std::string&) {
    std::this_thread::sleep_for(100ms);  // the client's end arrives before the answer
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  });
  start(backend.port());
  const int32_t a = client_.request("GET", "/");
  send_all(socket_.get(), client_.output());
  ::shutdown(socket_.get(), SHUT_WR);
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  EXPECT_EQ(client_.responses[a].body, "hello");
  EXPECT_EQ(client_.responses[a].error, 0u);
}

TEST_F(Http2Test, AnIdleConnectionEndsWithAGoaway) {
  Backend backend;
  start(backend.port(), [](ProxyConfig& c) { c.settings.idle_timeout = 200ms; });
  const int32_t a = client_.request("GET", "/");
  ASSERT_TRUE(run_until([&] { return answered(a); }));
  ASSERT_TRUE(run_until([&] { return client_.goaway >= 0; }));
  EXPECT_EQ(client_.goaway, 0);  // NO_ERROR
}

}  // namespace
}  // namespace vigil::l7

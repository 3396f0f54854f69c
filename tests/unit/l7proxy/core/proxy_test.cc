// The proxy end to end on loopback, in process: a real Proxy with one worker between raw
// client sockets and small scripted backends. Each test sends bytes a client would (or an
// attacker would) and checks what comes back and what the backend saw: forwarding fields,
// keep-alive on both sides, pipelining, chunked bodies both ways, smuggling shapes refused,
// retries past a dead target, 404s that keep the connection, timeouts, an upgrade's tunnel.
#include "l7proxy/core/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "l7proxy/balancing/balancer.h"
#include "tests/unit/l7proxy/core/loopback_harness.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

class ProxyTest : public testing::Test {
 protected:
  // A proxy on a free port with one route, "/" to `targets`, and `tweak` applied.
  void start(const std::vector<uint16_t>& targets,
             const std::function<void(ProxyConfig&)>& tweak = {}) {
    auto config = std::make_shared<ProxyConfig>();
    port_ = free_port();
    config->listeners.push_back(
        {.name = "web", .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(port_))});
    UpstreamSpec upstream{.name = "app"};
    for (uint16_t p : targets) {
      upstream.targets.push_back(target(p));
    }
    upstream.connect_timeout = 500ms;
    upstream.response_timeout = 1000ms;
    config->upstreams.push_back(upstream);
    RouteSpec api{.name = "api",
                  .priority = 1,
                  .path_match = PathMatch::kPrefix,
                  .path = "/api",
                  .upstream = "app",
                  .id = 0};
    RouteSpec all{
        .name = "all", .path_match = PathMatch::kPrefix, .path = "/", .upstream = "app", .id = 1};
    config->actions.resize(2);
    config->settings.header_timeout = 300ms;
    if (tweak) {
      tweak(*config);
    }
    config->routes = *RouteTable::compile({api, all});
    proxy_ = std::make_unique<Proxy>(1);
    auto prepared = proxy_->prepare(config);
    ASSERT_TRUE(prepared) << prepared.error();
    ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  }
  uint64_t stat(const char* name) { return proxy_->stats()[name].get<uint64_t>(); }

  uint16_t port_ = 0;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyTest, ForwardsARequestWithTheForwardingFields) {
  Backend backend;
  start({backend.port()});
  const std::string got = exchange(
      port_, "GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Client-Subject: CN=admin\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_NE(got.find("saw GET /hello?x=1 HTTP/1.1 body 0"), std::string::npos) << got;
  ASSERT_EQ(backend.heads().size(), 1u);
  const std::string head = backend.heads()[0];
  EXPECT_NE(head.find("Host: example.com\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Request-Id: "), std::string::npos) << head;
  EXPECT_EQ(head.find("CN=admin"), std::string::npos) << "a forged client-certificate subject";
}

TEST_F(ProxyTest, RequestsAreCountedByRouteAndUpstreamWithTheirLatency) {
  Backend backend;
  start({backend.port()}, [](ProxyConfig& c) {
    c.actions[0].rate_limit = RateSettings{.rate = 0.001, .burst = 1};  // api: one, then 429
  });
  EXPECT_TRUE(
      exchange(port_, "GET /api/a HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(
      exchange(port_, "GET /api/b HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 429"));
  EXPECT_TRUE(exchange(port_, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 200"));
  const nlohmann::json stats = proxy_->stats();
  const auto& api = stats.at("routes").at("api");
  EXPECT_EQ(api.at("responses").at("2xx"), 1u);
  EXPECT_EQ(api.at("responses").at("4xx"), 1u);
  EXPECT_EQ(stats.at("routes").at("all").at("responses").at("2xx"), 1u);
  // The 429 never went to the pool: the upstream saw two.
  EXPECT_EQ(stats.at("upstreams").at("app").at("responses").at("2xx"), 2u);
  EXPECT_EQ(stats.at("upstreams").at("app").at("responses").at("4xx"), 0u);
  uint64_t observed = 0;
  for (const auto& n : api.at("latency_buckets")) {
    observed += n.get<uint64_t>();
  }
  EXPECT_EQ(observed, 2u);
  EXPECT_GT(api.at("latency_sum").get<double>(), 0.0);
}

TEST_F(ProxyTest, ACircuitBreakerOpensAfterFailuresAndAnswers503AtOnce) {
  Backend backend([](const std::string&, const std::string&) {
    return std::string("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  });
  start({backend.port()}, [](ProxyConfig& c) {
    c.upstreams[0].breaker =
        BreakerSettings{.failures_to_open = 2, .open_for = std::chrono::seconds(30)};
    c.upstreams[0].outlier.consecutive_5xx = 100;  // the breaker's doing, not ejection's
  });
  const char* get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";  // not std::: no std::exchange
  EXPECT_TRUE(exchange(port_, get).starts_with("HTTP/1.1 500"));
  EXPECT_TRUE(exchange(port_, get).starts_with("HTTP/1.1 500"));
  const std::string refused = exchange(port_, get);
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503")) << refused;
  EXPECT_NE(refused.find("Retry-After: 30\r\n"), std::string::npos) << refused;
  EXPECT_EQ(backend.heads().size(), 2u) << "an open breaker sends nothing up";
  EXPECT_EQ(stat("breaker_refusals"), 1u);
}

TEST_F(ProxyTest, KeepsBothSidesAliveAndAnswersPipelinedRequestsInOrder) {
  Backend backend;
  start({backend.port()});
  const std::string got =
      exchange(port_,
               "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n"
               "POST /three HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
               3);
  const size_t one = got.find("saw GET /one");
  const size_t two = got.find("saw GET /two");
  const size_t three = got.find("saw POST /three HTTP/1.1 body 5");
  ASSERT_NE(one, std::string::npos) << got;
  ASSERT_NE(two, std::string::npos) << got;
  ASSERT_NE(three, std::string::npos) << got;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_EQ(backend.accepted(), 1);  // one upstream connection, kept alive
  EXPECT_EQ(stat("upstream_reused"), 2u);
}

TEST_F(ProxyTest, ChunkedBodiesBothWays) {
  Backend backend([](const std::string&, const std::string& body) {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ngot: \r\n" +
           std::to_string(body.size()) + "\r\n" + body + "\r\n0\r\n\r\n";
  });
  start({backend.port()});
  const std::string got =
      exchange(port_,
               "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: dropped\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("got: "), std::string::npos) << got;
  EXPECT_NE(got.find("abcdefg"), std::string::npos) << got;
  ASSERT_EQ(backend.heads().size(), 1u);
  EXPECT_EQ(backend.heads()[0].find("Trailer"), std::string::npos);
}

TEST_F(ProxyTest, NeverChunksTowardAnHttp10Client) {
  Backend backend([](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  });
  start({backend.port()});
  UniqueFd c = dial(port_);
  send_all(c.get(), "GET / HTTP/1.0\r\nHost: a\r\n\r\n");
  const std::string got = read_until(c.get(), [](const std::string&) { return false; });
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_EQ(got.find("chunked"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("\r\n\r\nabc")) << got;  // ended by the close
}

TEST_F(ProxyTest, SmugglingShapesAreRefusedAndTheConnectionClosed) {
  Backend backend;
  start({backend.port()});
  const std::vector<std::string> requests = {
      std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: ") +
          "chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"};
  for (const std::string& request : requests) {
    UniqueFd c = dial(port_);
    send_all(c.get(), request);
    const std::string got = read_until(c.get(), [](const std::string&) { return false; });
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400 Bad Request\r\n")) << request << "\n" << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  }
  EXPECT_TRUE(backend.heads().empty() ||
              backend.heads()[0].find("Transfer-Encoding") != std::string::npos);
}

TEST_F(ProxyTest, NoRouteIsA404ThatKeepsTheConnection) {
  Backend backend;
  start({backend.port()}, [](ProxyConfig&) {});
  // Only /api and / exist; a host-less absolute target to another scheme is refused, and a
  // request after the 404 on the same connection is still served.
  auto config = std::make_shared<ProxyConfig>(*proxy_->config());
  RouteSpec api{
      .name = "api", .path_match = PathMatch::kPrefix, .path = "/api", .upstream = "app", .id = 0};
  config->routes = *RouteTable::compile({api});
  auto prepared = proxy_->prepare(config);
  ASSERT_TRUE(prepared);
  ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  std::this_thread::sleep_for(50ms);
  const std::string got = exchange(
      port_, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /api/x HTTP/1.1\r\nHost: a\r\n\r\n", 2);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 404 Not Found\r\n")) << got;
  EXPECT_NE(got.find("saw GET /api/x"), std::string::npos) << got;
}

TEST_F(ProxyTest, ADeadTargetIsRetriedOnAnotherAndEjected) {
  Backend backend;
  const uint16_t dead = free_port();  // nothing listens: refused at once
  start({dead, backend.port()});
  for (int i = 0; i < 6; ++i) {
    const std::string got = exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << i << ": " << got;
  }
  EXPECT_GE(stat("retries"), 1u);
  EXPECT_GE(stat("upstream_connect_failures"), 1u);
  EXPECT_EQ(stat("ejections"), 1u);  // three failed connects in a row eject it
}

// Backends that answer /healthz with the status in `health` and every other request 200.
Backend::Script health_endpoint(const std::atomic<int>& health) {
  return [&health](const std::string& head, const std::string&) {
    const int status = head.starts_with("GET /healthz ") ? health.load() : 200;
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\n\r\nok";
  };
}

TEST_F(ProxyTest, ATargetFailingItsHealthChecksGetsNoRequestsAndNoneLeftIsA503) {
  std::atomic<int> health_a{200}, health_b{503};
  Backend a(health_endpoint(health_a)), b(health_endpoint(health_b));
  start({a.port(), b.port()}, [](ProxyConfig& c) {
    c.upstreams[0].health_check = HealthCheckSettings{
        .path = "/healthz", .interval = 100ms, .timeout = 100ms, .thresholds = {1, 1}};
  });
  const auto health_of = [&](size_t t) { return proxy_->show().upstreams[0].targets[t].health; };
  const auto settle = [&](const char* want_a, const char* want_b) {
    for (int i = 0; i < 500 && (health_of(0) != want_a || health_of(1) != want_b); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(health_of(0), want_a);
    ASSERT_EQ(health_of(1), want_b);
  };
  settle("healthy", "unhealthy");
  const auto requests_seen = [](Backend& backend) {
    size_t n = 0;
    for (const auto& head : backend.heads()) {
      n += head.starts_with("GET /api ") ? 1 : 0;
    }
    return n;
  };
  for (int i = 0; i < 10; ++i) {
    const char* get = "GET /api HTTP/1.1\r\nHost: a\r\n\r\n";
    EXPECT_TRUE(exchange(port_, get).starts_with("HTTP/1.1 200")) << i;
  }
  EXPECT_EQ(requests_seen(a), 10u);
  EXPECT_EQ(requests_seen(b), 0u) << "an unhealthy target is never tried";
  EXPECT_EQ(proxy_->show().upstreams[0].targets[1].last_failure, "unexpected status");
  EXPECT_EQ(proxy_->show().upstreams[0].targets[1].last_failure_status, 503);

  health_a = 500;
  settle("unhealthy", "unhealthy");
  const std::string refused = exchange(port_, "GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503")) << refused;
  EXPECT_EQ(stat("no_healthy_target"), 1u);
  EXPECT_EQ(requests_seen(a) + requests_seen(b), 10u);

  health_b = 200;
  settle("unhealthy", "healthy");
  EXPECT_TRUE(exchange(port_, "GET /api HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_EQ(requests_seen(b), 1u);
  const auto metrics = proxy_->stats()["health"];
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[1]["healthy"], true);
  EXPECT_GE(metrics[1]["failed"].get<uint64_t>(), 1u);
}

TEST_F(ProxyTest, TargetsNotCheckedYetAreUsedWhenNoneIsHealthy) {
  // Checks every ten minutes that never finish before the request: both targets stay
  // unchecked, and a request still goes (a new config is not refused until checks run).
  Backend silent([](const std::string& head, const std::string&) {
    if (head.starts_with("GET /healthz ")) {
      std::this_thread::sleep_for(500ms);
      return std::string();
    }
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  start({silent.port()}, [](ProxyConfig& c) {
    c.upstreams[0].health_check =
        HealthCheckSettings{.path = "/healthz", .interval = 600000ms, .timeout = 60000ms};
  });
  EXPECT_EQ(proxy_->show().upstreams[0].targets[0].health, "unchecked");
  EXPECT_TRUE(exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 200"));
}

TEST_F(ProxyTest, NoTargetAnsweringIsA502) {
  start({free_port()});
  const std::string got = exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << got;
}

TEST_F(ProxyTest, ASlowHeadIs408AndASlowUpstreamIs504) {
  Backend slow([](const std::string&, const std::string&) {
    std::this_thread::sleep_for(1500ms);
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  start({slow.port()});
  UniqueFd c = dial(port_);
  send_all(c.get(), "GET / HTTP/1.1\r\nHost: a\r\n");  // never finished
  std::string got = read_until(c.get(), [](const std::string&) { return false; });
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408 Request Timeout\r\n")) << got;
  got = exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 504 Gateway Timeout\r\n")) << got;
}

TEST_F(ProxyTest, AnUpgradeBecomesATunnel) {
  Backend backend([](const std::string& head, const std::string&) {
    EXPECT_NE(head.find("Upgrade: websocket"), std::string::npos) << head;
    return std::string(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  });
  start({backend.port()});
  UniqueFd c = dial(port_);
  send_all(c.get(),
           "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  std::string got = read_until(
      c.get(), [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_TRUE(got.starts_with("HTTP/1.1 101 ")) << got;
  send_all(c.get(), "ping over the tunnel");
  got = read_until(c.get(), [](const std::string& s) { return s.size() >= 20; });
  EXPECT_EQ(got, "ping over the tunnel");
}

TEST_F(ProxyTest, ALargeBodyStreamsBothWays) {
  const std::string big(8 << 20, 'x');
  Backend backend([&](const std::string&, const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  });
  start({backend.port()});
  UniqueFd c = dial(port_);
  std::thread sender([&] {
    send_all(c.get(), "PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                          std::to_string(big.size()) + "\r\n\r\n");
    send_all(c.get(), big);
  });
  const std::string got = read_until(c.get(), [&](const std::string& s) {
    return s.size() >= big.size() + 40 && whole_responses(s) == 1;
  });
  sender.join();
  ASSERT_EQ(whole_responses(got), 1u) << got.substr(0, 200);
  EXPECT_EQ(got.size() - got.find("\r\n\r\n") - 4, big.size());
}

TEST_F(ProxyTest, ExpectContinueIsAnsweredByTheProxy) {
  Backend backend;
  start({backend.port()});
  UniqueFd c = dial(port_);
  send_all(c.get(),
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::string got = read_until(
      c.get(), [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(c.get(), "body");
  got = read_until(c.get(), [](const std::string& s) { return whole_responses(s) == 1; });
  EXPECT_NE(got.find("saw POST / HTTP/1.1 body 4"), std::string::npos) << got;
  ASSERT_EQ(backend.heads().size(), 1u);
  EXPECT_EQ(backend.heads()[0].find("Expect"), std::string::npos);
}

TEST_F(ProxyTest, AStaleKeptAliveConnectionIsRetriedUnseen) {
  // The backend closes each connection after answering without saying so: the proxy pools
  // it, finds it closed on the next request, and sends that request again on a new one.
  Backend backend([](const std::string&, const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nX-Close-After: 1\r\nContent-Length: 2\r\n\r\nok");
  });
  start({backend.port()});
  UniqueFd c = dial(port_);
  for (int i = 0; i < 3; ++i) {
    send_all(c.get(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const std::string got =
        read_until(c.get(), [](const std::string& s) { return whole_responses(s) == 1; });
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  }
}

}  // namespace
}  // namespace vigil::l7

namespace vigil::l7 {
namespace {

void reset(UniqueFd& c) {
  const linger hard{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  c.reset();  // an RST, as a killed client's
}

TEST_F(ProxyTest, ARefusedHeadHasNoBodyAndKeepsTheConnection) {
  Backend backend;
  start({backend.port()});
  auto config = std::make_shared<ProxyConfig>(*proxy_->config());
  config->routes = *RouteTable::compile({RouteSpec{.name = "api",
                                                   .path_match = PathMatch::kPrefix,
                                                   .path = "/api",
                                                   .upstream = "app",
                                                   .id = 0}});
  auto prepared = proxy_->prepare(config);
  ASSERT_TRUE(prepared);
  ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  std::this_thread::sleep_for(50ms);
  const std::string got = exchange(
      port_, "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /api/x HTTP/1.1\r\nHost: a\r\n\r\n", 2);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 404 Not Found\r\n")) << got;
  // The 404's head is followed at once by the next response: no body in between.
  EXPECT_NE(got.find("\r\n\r\nHTTP/1.1 200 OK\r\n"), std::string::npos) << got;
}

TEST_F(ProxyTest, AnHttp10ClientAskingForKeepAliveIsToldAndKept) {
  Backend backend;
  start({backend.port()});
  UniqueFd c = dial(port_);
  for (int i = 0; i < 2; ++i) {
    send_all(c.get(), "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
    const std::string got =
        read_until(c.get(), [](const std::string& s) { return whole_responses(s) == 1; });
    EXPECT_NE(got.find("Connection: keep-alive\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("saw GET / HTTP/1.1"), std::string::npos) << got;
  }
}

TEST_F(ProxyTest, AnAnswerBeforeTheBodyEndsClosesTheConnection) {
  // The backend answers 413 as soon as it has the head, and hangs up; the client's body is
  // still coming. The answer reaches the client, saying the connection closes: where a next
  // request would begin in what the client sends is not known.
  Backend backend(
      [](const std::string&, const std::string&) {
        return std::string("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
      },
      /*early=*/true);
  start({backend.port()});
  UniqueFd c = dial(port_);
  send_all(c.get(), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n");
  std::thread sender([&] { send_all(c.get(), std::string(2000000, 'x')); });
  const std::string got = read_until(
      c.get(), [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  ::shutdown(c.get(), SHUT_RDWR);
  sender.join();
  EXPECT_TRUE(got.starts_with("HTTP/1.1 413 ")) << got;
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
}

TEST_F(ProxyTest, AClientResetInATunnelOrAPipelineLeavesTheProxyServing) {
  Backend backend([](const std::string& head, const std::string&) {
    if (head.find("Upgrade") != std::string::npos) {
      return std::string(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\n\r\n");
    }
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  start({backend.port()});
  for (int i = 0; i < 20; ++i) {
    UniqueFd tunnel = dial(port_);
    send_all(tunnel.get(),
             "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    read_until(tunnel.get(), [](const std::string& s) { return s.find("\r\n\r\n") != s.npos; });
    send_all(tunnel.get(), "data in flight");
    reset(tunnel);
    UniqueFd pipelined = dial(port_);
    send_all(pipelined.get(),
             "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    reset(pipelined);
  }
  EXPECT_TRUE(exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 200"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(stat("connections_active"), 0u);
}

}  // namespace
}  // namespace vigil::l7

namespace vigil::l7 {
namespace {

TEST_F(ProxyTest, AResponseEndedByItsCloseArrivesWholeAtOnce) {
  // Data and FIN together: the proxy must see the end (EPOLLRDHUP comes once, with the data)
  // and finish the chunked body at once, not at the idle timeout.
  Backend backend([](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nthe body ends with the connection");
  });
  start({backend.port()});
  const auto begin = std::chrono::steady_clock::now();
  const std::string got = exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("the body ends with the connection\r\n0\r\n\r\n")) << got;
}

TEST_F(ProxyTest, TheAccessLogHasALinePerRequestWithClientValuesEscaped) {
  Backend backend;
  char dir[] = "/tmp/l7-access-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/access.log";
  start({backend.port()}, [&](ProxyConfig& c) {
    c.access_log =
        AccessLogSpec{.path = path,
                      .fields = {AccessField::kClient, AccessField::kMethod, AccessField::kPath,
                                 AccessField::kStatus, AccessField::kBytes, AccessField::kRoute,
                                 AccessField::kUpstream}};
  });
  exchange(port_, "GET /api/x?q=\"a=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  exchange(port_, "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  proxy_->stop();  // the workers write what waits
  std::string text;
  {
    UniqueFd f(::open(path.c_str(), O_RDONLY));
    char buf[4096];
    ssize_t n;
    while ((n = ::read(f.get(), buf, sizeof buf)) > 0) {
      text.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_NE(text.find("client=127.0.0.1 method=GET path=\"/api/x?q=\\\"a=1\" status=200 bytes="),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=api upstream=app\n"), std::string::npos) << text;
  EXPECT_NE(text.find("method=GET path=- status=400 bytes=0 route=- upstream=-\n"),
            std::string::npos)
      << text;
  ::unlink(path.c_str());
  ::rmdir(dir);
}

// A target given by DNS name, with a lookup the test answers: its address is where requests
// go, a new answer moves them once the proxy refreshes, and a failed lookup keeps the address.
// One request on a kept-alive connection: its answer's status line ("" if none came).
std::string ask(int fd) {
  send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string got =
      read_until(fd, [](const std::string& s) { return whole_responses(s) >= 1; });
  return got.substr(0, got.find("\r\n"));
}

TEST_F(ProxyTest, ACommitChangesTheWorkerCountAndCutsNoConnectionOff) {
  Backend backend;
  start({backend.port()});
  const auto with_workers = [&](uint32_t n) {
    auto next = std::make_shared<ProxyConfig>(*proxy_->config());
    next->settings.workers = n;
    auto prepared = proxy_->prepare(next);
    ASSERT_TRUE(prepared) << prepared.error();
    ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  };
  UniqueFd first = dial(port_);
  EXPECT_EQ(ask(first.get()), "HTTP/1.1 200 OK");

  // Prepared and never activated (another part of the commit failed): the sockets it bound
  // for workers to come took no connection meanwhile, and go without resetting any.
  {
    auto next = std::make_shared<ProxyConfig>(*proxy_->config());
    next->settings.workers = 4;
    auto prepared = proxy_->prepare(next);
    ASSERT_TRUE(prepared) << prepared.error();
    for (int i = 0; i < 8; ++i) {
      UniqueFd c = dial(port_);
      EXPECT_EQ(ask(c.get()), "HTTP/1.1 200 OK") << i;
    }
  }

  with_workers(3);
  EXPECT_EQ(proxy_->workers(), 3u);
  EXPECT_EQ(proxy_->show().listeners.at(0).sockets, 3u);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 9; ++i) {
    clients.push_back(dial(port_));
    EXPECT_EQ(ask(clients.back().get()), "HTTP/1.1 200 OK") << i;
  }
  EXPECT_EQ(ask(first.get()), "HTTP/1.1 200 OK");

  // Down to one: the two newest retire, and every connection they had is still served. A
  // commit made meanwhile reaches them too: each client's next request runs on it (the backend
  // sees its added field); those on a retired worker are answered with Connection: close.
  with_workers(1);
  EXPECT_EQ(proxy_->workers(), 1u);
  EXPECT_EQ(proxy_->retiring(), 2u);
  EXPECT_EQ(proxy_->show().workers_retiring, 2u);
  {
    auto next = std::make_shared<ProxyConfig>(*proxy_->config());
    auto storage =
        std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"X-Gen", "2"});
    next->actions[1].add_storage = storage;
    next->actions[1].add = {{(*storage)[0], (*storage)[1]}};
    auto prepared = proxy_->prepare(next);
    ASSERT_TRUE(prepared) << prepared.error();
    ASSERT_TRUE(proxy_->activate(std::move(*prepared)));
  }
  // A worker takes a config at its next turn: asked something after it (posted tasks run in
  // order), each has it once it answers.
  ASSERT_EQ(proxy_->show().workers_retiring, 2u);
  const size_t heads_before = backend.heads().size();
  size_t told_to_close = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    send_all(clients[i].get(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const std::string got =
        read_until(clients[i].get(), [](const std::string& s) { return whole_responses(s) >= 1; });
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK")) << i << got;
    if (got.find("Connection: close\r\n") != std::string::npos) {
      ++told_to_close;
      char byte = 0;
      EXPECT_EQ(::recv(clients[i].get(), &byte, 1, 0), 0) << "closed after its answer";
    }
  }
  // Nine connections over three workers: the odds that none was on a retired one are 3^-9.
  EXPECT_GE(told_to_close, 1u);
  const auto heads = backend.heads();
  ASSERT_EQ(heads.size(), heads_before + clients.size());
  for (size_t i = heads_before; i < heads.size(); ++i) {
    EXPECT_NE(heads[i].find("X-Gen: 2\r\n"), std::string::npos) << heads[i];
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(exchange(port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").substr(0, 15),
              "HTTP/1.1 200 OK");
  }
  proxy_->reap_retired();
  const uint64_t requests = stat("requests");
  const uint64_t accepted = stat("connections_accepted");
  EXPECT_EQ(requests, 1u + 8u + 9u + 1u + 9u + 5u);

  // Once their connections close, the retired workers stop; their counts stay in the totals.
  clients.clear();
  for (int i = 0; i < 200 && proxy_->retiring() > 0; ++i) {
    std::this_thread::sleep_for(25ms);
    proxy_->reap_retired();
  }
  EXPECT_EQ(proxy_->retiring(), 0u);
  EXPECT_EQ(stat("requests"), requests);
  EXPECT_EQ(stat("connections_accepted"), accepted);
  EXPECT_EQ(proxy_->stats().at("routes").at("all").at("responses").at("2xx"), requests);
  EXPECT_EQ(ask(first.get()), "HTTP/1.1 200 OK");
  EXPECT_EQ(proxy_->show().listeners.at(0).sockets, 1u);
}

TEST(ProxyDns, ATargetNameFollowsWhatDnsAnswers) {
  Backend first([](const std::string&, const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
  });
  Backend second(
      [](const std::string&, const std::string&) {
        return std::string("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
      },
      false, "127.0.0.2", first.port());
  std::mutex mutex;
  Expected<DnsAnswer> answer = DnsAnswer{.addresses = {*net::IpAddress::parse("127.0.0.1")}};
  auto lookup = [&](const std::string& name, const DnsSettings&) -> Expected<DnsAnswer> {
    const std::lock_guard lock(mutex);
    return name == "app.test" ? answer : fail("no such name");
  };
  auto config = std::make_shared<ProxyConfig>();
  const uint16_t port = free_port();
  config->listeners.push_back(
      {.name = "web", .address = *net::HostPort::parse("127.0.0.1:" + std::to_string(port))});
  config->settings.dns_min_ttl = 20ms;
  config->settings.dns_max_ttl = 20ms;
  UpstreamSpec upstream{.name = "app"};
  upstream.named.push_back({.host = "app.test", .port = first.port()});
  config->upstreams.push_back(upstream);
  config->actions.resize(1);
  // Three requests' burst, refilled once in a thousand seconds: the limiter must carry over
  // each DNS change, or the fourth would pass.
  config->actions[0].rate_limit = RateSettings{.rate = 0.001, .burst = 3};
  config->routes = *RouteTable::compile({{.name = "all", .upstream = "app", .id = 0}});
  Proxy proxy(1, lookup);
  auto prepared = proxy.prepare(config);
  ASSERT_TRUE(prepared) << prepared.error();
  ASSERT_TRUE(proxy.activate(std::move(*prepared)));
  const char* get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_TRUE(exchange(port, get).ends_with("first")) << "resolved before the commit took effect";
  auto shown = proxy.show().upstreams[0];
  ASSERT_EQ(shown.targets.size(), 1u);
  EXPECT_EQ(shown.targets[0].name, "app.test");
  ASSERT_EQ(shown.names.size(), 1u);
  EXPECT_EQ(shown.names[0].addresses, std::vector<std::string>{"127.0.0.1"});

  {
    const std::lock_guard lock(mutex);
    answer = DnsAnswer{.addresses = {*net::IpAddress::parse("127.0.0.2")}};
  }
  for (int i = 0; i < 500 && proxy.show().upstreams[0].targets[0].address.starts_with("127.0.0.1");
       ++i) {
    std::this_thread::sleep_for(10ms);
    proxy.refresh_targets();
  }
  EXPECT_TRUE(exchange(port, get).ends_with("second"));

  {
    const std::lock_guard lock(mutex);
    answer = fail("the nameservers did not answer");
  }
  for (int i = 0; i < 500 && proxy.show().upstreams[0].names[0].error.empty(); ++i) {
    std::this_thread::sleep_for(10ms);
    proxy.refresh_targets();
  }
  shown = proxy.show().upstreams[0];
  EXPECT_EQ(shown.names[0].error, "the nameservers did not answer");
  EXPECT_EQ(shown.names[0].addresses, std::vector<std::string>{"127.0.0.2"});
  EXPECT_TRUE(exchange(port, get).ends_with("second")) << "a failed lookup keeps the address";
  EXPECT_TRUE(exchange(port, get).starts_with("HTTP/1.1 429")) << "no fresh burst per DNS change";
}

}  // namespace
}  // namespace vigil::l7

// Admission of a routed request, without sockets: the route matched or a 404, the route's rate
// limit (by client address or by a field) with its Retry-After, the pool's open circuit
// breaker as a 503, and the hash a consistent balancer picks by.
#include "l7proxy/core/request_admission.h"

#include <gtest/gtest.h>

#include <functional>

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class AdmissionTest : public testing::Test {
 protected:
  void build(const std::function<void(ProxyConfig&)>& tweak = {}) {
    auto config = std::make_shared<ProxyConfig>();
    UpstreamSpec upstream{.name = "app"};
    upstream.targets.push_back({.key = "app/127.0.0.1:1"});
    config->upstreams.push_back(upstream);
    config->actions.resize(1);
    RouteSpec api{.name = "api",
                  .path_match = PathMatch::kPrefix,
                  .path = "/api",
                  .upstream = "app",
                  .id = 0};
    if (tweak) {
      tweak(*config);
    }
    config->routes = *RouteTable::compile({api});
    generation_ = make_generation(config, targets_, breakers_, limiters_, nullptr, 1);
  }
  Admission admit(std::string_view path, std::string_view peer = "192.0.2.1",
                  std::vector<http1::Header> headers = {}) {
    headers_ = std::move(headers);
    RequestView view;
    view.path = std::string(path);
    view.method = "GET";
    view.headers = headers_;
    return admit_request(*generation_, view, peer, now_, stats_);
  }

  TargetMap targets_;
  BreakerMap breakers_;
  LimiterMap limiters_;
  std::shared_ptr<Generation> generation_;
  WorkerStats stats_;
  std::vector<http1::Header> headers_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(AdmissionTest, ARequestNoRouteMatchesIsA404) {
  build();
  const Admission a = admit("/other");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.route, "");
  const Admission b = admit("/api/x");
  EXPECT_EQ(b.status, 0);
  EXPECT_EQ(b.route, "api");
  EXPECT_EQ(b.pool, 0u);
  EXPECT_EQ(b.breaker, CircuitBreaker::Admission::kRefused);  // no breaker configured
}

TEST_F(AdmissionTest, ARateLimitPerClientAddressAnswers429WithRetryAfter) {
  build([](ProxyConfig& c) { c.actions[0].rate_limit = RateSettings{.rate = 1, .burst = 2}; });
  EXPECT_EQ(admit("/api").status, 0);
  EXPECT_EQ(admit("/api").status, 0);
  const Admission limited = admit("/api");
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(limited.retry_after, 1u);
  EXPECT_EQ(limited.route, "api");
  EXPECT_EQ(admit("/api", "192.0.2.2").status, 0);  // another client has its own bucket
}

TEST_F(AdmissionTest, ARateLimitByAFieldCountsEachValueApart) {
  build([](ProxyConfig& c) {
    c.actions[0].rate_limit = RateSettings{.rate = 1, .burst = 1};
    c.actions[0].rate_key_header = "x-api-key";
  });
  EXPECT_EQ(admit("/api", "192.0.2.1", {{"X-Api-Key", "a"}}).status, 0);
  EXPECT_EQ(admit("/api", "192.0.2.9", {{"X-Api-Key", "a"}}).status, 429);
  EXPECT_EQ(admit("/api", "192.0.2.1", {{"X-Api-Key", "b"}}).status, 0);
}

TEST_F(AdmissionTest, AnOpenBreakerIs503UntilItsTimeIsUp) {
  build([](ProxyConfig& c) {
    c.upstreams[0].breaker = BreakerSettings{.failures_to_open = 1, .open_for = 2500ms};
  });
  const Admission first = admit("/api");
  ASSERT_EQ(first.status, 0);
  ASSERT_EQ(first.breaker, CircuitBreaker::Admission::kAllowed);
  generation_->pools[0].breaker->record(false, false, now_);
  const Admission refused = admit("/api");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.retry_after, 3u);  // rounded up
  EXPECT_EQ(stats_.breaker_refusals.load(), 1u);
  now_ += 3s;
  EXPECT_EQ(admit("/api").breaker, CircuitBreaker::Admission::kProbe);
}

TEST_F(AdmissionTest, TheHashFollowsTheConfiguredKey) {
  build([](ProxyConfig& c) {
    c.upstreams[0].hash_on = HashOn::kCookie;
    c.upstreams[0].hash_name = "session";
  });
  const auto with_cookie = [&](std::string_view value) {
    return admit("/api", "192.0.2.1", {{"Cookie", value}}).hash;
  };
  EXPECT_EQ(with_cookie("a=1; session=xyz"), with_cookie("session=xyz; b=2"));
  EXPECT_NE(with_cookie("session=xyz"), with_cookie("session=abc"));
  build([](ProxyConfig& c) { c.upstreams[0].hash_on = HashOn::kSourceAddress; });
  EXPECT_EQ(admit("/api", "192.0.2.1").hash, admit("/api", "192.0.2.1").hash);
  EXPECT_NE(admit("/api", "192.0.2.1").hash, admit("/api", "192.0.2.2").hash);
}

}  // namespace
}  // namespace vigil::l7

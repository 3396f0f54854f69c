// Active health checks against real sockets on loopback: an HTTP check passes on an expected
// status and fails on another, on a refused connect, on silence past the timeout and on bytes
// that are not HTTP; a TCP check needs only the connect; rise and fall are honoured; health
// survives a commit that keeps the target and its checks, and starts over when they change.
// No timing is asserted: each wait has a generous deadline and only the outcome counts.
#include "l7proxy/core/health_checker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "tests/unit/l7proxy/core/loopback_harness.h"

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;
using State = TargetHealth::State;

// A config with one upstream "app" checked every 100 ms, targets on `ports`.
ProxyConfig checked(const std::vector<uint16_t>& ports, HealthCheckSettings check = {}) {
  ProxyConfig c;
  UpstreamSpec u{.name = "app"};
  for (uint16_t p : ports) {
    u.targets.push_back(target(p));
  }
  check.interval = 100ms;
  check.timeout = std::min<Millis>(check.timeout, 100ms);
  u.health_check = check;
  c.upstreams.push_back(u);
  return c;
}

bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::string answer(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
}

TEST(HealthChecker, AnExpectedStatusPassesAndAnotherFailsWithItsStatus) {
  std::atomic<int> status{200};
  Backend backend([&](const std::string&, const std::string&) { return answer(status.load()); });
  HealthChecker checker;
  auto board = checker.apply(checked({backend.port()}, {.thresholds = {.rise = 1, .fall = 2}}));
  ASSERT_EQ(board->size(), 1u);
  ASSERT_EQ((*board)[0].size(), 1u);
  const TargetHealth& h = *(*board)[0][0];
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kHealthy; }));
  status = 503;
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kUnhealthy; }));
  EXPECT_EQ(h.last_failure.load(), CheckFailure::kStatus);
  EXPECT_EQ(h.last_status.load(), 503);
  EXPECT_GE(h.changes.load(), 1u);
  const auto heads = backend.heads();
  ASSERT_FALSE(heads.empty());
  EXPECT_TRUE(heads[0].starts_with("GET / HTTP/1.1\r\nHost: 127.0.0.1:")) << heads[0];
  EXPECT_NE(heads[0].find("Connection: close\r\n"), std::string::npos);
}

TEST(HealthChecker, TheConfiguredPathHostAndStatusRangesAreUsed) {
  Backend backend([](const std::string& head, const std::string&) {
    return answer(head.starts_with("GET /healthz HTTP/1.1\r\nHost: app.internal\r\n") ? 204 : 404);
  });
  HealthChecker checker;
  auto board = checker.apply(checked(
      {backend.port()},
      {.path = "/healthz", .host = "app.internal", .expected_status = {{204, 204}, {301, 302}}}));
  EXPECT_TRUE(wait_for([&] { return (*board)[0][0]->now() == State::kHealthy; }));
}

TEST(HealthChecker, ARefusedConnectFailsAndANewTargetIsUnhealthyAtOnce) {
  const uint16_t closed = free_port();  // nothing listens there
  HealthChecker checker;
  auto board = checker.apply(checked({closed}));
  const TargetHealth& h = *(*board)[0][0];
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kUnhealthy; }));
  EXPECT_EQ(h.last_failure.load(), CheckFailure::kConnect);
  EXPECT_EQ(h.changes.load(), 0u) << "unchecked to unhealthy is not a change";
}

TEST(HealthChecker, SilenceTimesOutAndBytesThatAreNotHttpFail) {
  // A listener that accepts (the kernel does) and never answers.
  Backend silent([](const std::string&, const std::string&) {
    std::this_thread::sleep_for(400ms);
    return std::string();
  });
  Backend garbage([](const std::string&, const std::string&) {
    return std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  HealthChecker checker;
  auto board = checker.apply(checked({silent.port(), garbage.port()}, {.timeout = 50ms}));
  const TargetHealth& s = *(*board)[0][0];
  const TargetHealth& g = *(*board)[0][1];
  ASSERT_TRUE(
      wait_for([&] { return s.now() == State::kUnhealthy && g.now() == State::kUnhealthy; }));
  EXPECT_EQ(s.last_failure.load(), CheckFailure::kTimeout);
  EXPECT_EQ(g.last_failure.load(), CheckFailure::kBadResponse);
}

TEST(HealthChecker, ATcpCheckNeedsOnlyTheConnect) {
  Backend backend([](const std::string&, const std::string&) { return answer(500); });
  HealthChecker checker;
  auto board = checker.apply(checked({backend.port()}, {.http = false}));
  ASSERT_TRUE(wait_for([&] { return (*board)[0][0]->now() == State::kHealthy; }));
  EXPECT_TRUE(backend.heads().empty()) << "a TCP check sends nothing";
}

TEST(HealthChecker, FallAndRiseNeedThatManyInARow) {
  std::atomic<int> status{200};
  std::atomic<int> answered{0};
  Backend backend([&](const std::string&, const std::string&) {
    ++answered;
    return answer(status.load());
  });
  HealthChecker checker;
  auto board = checker.apply(checked({backend.port()}, {.thresholds = {.rise = 3, .fall = 4}}));
  const TargetHealth& h = *(*board)[0][0];
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kHealthy; }));
  status = 500;
  const int before = answered.load();
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kUnhealthy; }));
  EXPECT_GE(h.failed.load(), 4u);
  EXPECT_GE(answered.load() - before, 4);
  status = 200;
  const uint64_t passed = h.passed.load();
  ASSERT_TRUE(wait_for([&] { return h.now() == State::kHealthy; }));
  EXPECT_GE(h.passed.load() - passed, 3u);
}

TEST(HealthChecker, HealthIsKeptAcrossACommitUnlessTheChecksChange) {
  Backend backend([](const std::string&, const std::string&) { return answer(200); });
  HealthChecker checker;
  auto first = checker.apply(checked({backend.port()}));
  ASSERT_TRUE(wait_for([&] { return (*first)[0][0]->now() == State::kHealthy; }));
  auto same = checker.apply(checked({backend.port()}));
  EXPECT_EQ((*same)[0][0], (*first)[0][0]);
  EXPECT_EQ((*same)[0][0]->now(), State::kHealthy);
  auto changed = checker.apply(checked({backend.port()}, {.path = "/other"}));
  EXPECT_NE((*changed)[0][0], (*first)[0][0]);
  EXPECT_TRUE(wait_for([&] { return (*changed)[0][0]->now() == State::kHealthy; }));
  // Without checks: nothing on the board, and the old target is no longer checked.
  ProxyConfig none = checked({backend.port()});
  none.upstreams[0].health_check.reset();
  auto empty = checker.apply(none);
  EXPECT_TRUE((*empty)[0].empty());
  const uint64_t passed = (*changed)[0][0]->passed.load();
  std::this_thread::sleep_for(400ms);
  EXPECT_LE((*changed)[0][0]->passed.load(), passed + 1) << "one check may have been under way";
}

TEST(HealthChecker, ATargetListedTwiceIsOneTargetWithOneCheck) {
  // Two names resolving to one address give the same key twice: one record, one check, and
  // a second apply with the same list must not trip over it.
  std::atomic<int> checks{0};
  Backend backend([&](const std::string&, const std::string&) {
    ++checks;
    return answer(200);
  });
  HealthChecker checker;
  ProxyConfig config = checked({backend.port(), backend.port()});
  auto first = checker.apply(config);
  ASSERT_EQ((*first)[0].size(), 2u);
  EXPECT_EQ((*first)[0][0], (*first)[0][1]);
  ASSERT_TRUE(wait_for([&] { return (*first)[0][0]->now() == State::kHealthy; }));
  auto second = checker.apply(config);
  EXPECT_EQ((*second)[0][0], (*first)[0][0]);
  EXPECT_EQ((*second)[0][1], (*first)[0][0]);
  const int before = checks.load();
  std::this_thread::sleep_for(500ms);
  EXPECT_LE(checks.load() - before, 7) << "one check per interval, not two";
}

}  // namespace
}  // namespace vigil::l7

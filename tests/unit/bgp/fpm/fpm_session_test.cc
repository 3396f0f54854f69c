// The FPM session's rules over a clock the test moves: a reconnect replays and sweeps what
// did not come back once the stream goes quiet, a refused message fails closed, a stream that
// makes no sense ends the connection, and zebra gone for good takes its routes with it.
#include "bgp/fpm/fpm_session.h"

#include <gtest/gtest.h>

#include "tests/unit/bgp/fpm/netlink_builder.h"

namespace vigil::fpm {
namespace {

using namespace std::chrono_literals;
using test::frame;
using test::NetlinkBuilder;

constexpr uint8_t kInet = 2;
constexpr uint16_t kDst = 1, kOif = 4, kGateway = 5;

net::Prefix prefix(const char* text) {
  return *net::Prefix::parse_network(text);
}

std::vector<uint8_t> route(const char* dst, uint8_t length, const char* gateway = "198.18.1.1") {
  return NetlinkBuilder::route(kRtmNewRoute, kInet, length)
      .addr(kDst, dst)
      .addr(kGateway, gateway)
      .attr32(kOif, 3)
      .build();
}
std::vector<uint8_t> withdraw(const char* dst, uint8_t length) {
  return NetlinkBuilder::route(kRtmDelRoute, kInet, length, 0).addr(kDst, dst).build();
}

class FpmSessionTest : public ::testing::Test {
 protected:
  void receive(const std::vector<uint8_t>& bytes) {
    Status ok = session_.receive(bytes, now_);
    ASSERT_TRUE(ok) << ok.error();
  }
  std::vector<net::Prefix> held() const {
    std::vector<net::Prefix> out;
    for (const auto& r : session_.store().resolved()) {
      out.push_back(r.prefix);
    }
    return out;
  }

  FpmSession::Clock::time_point now_{};
  FpmSession session_{{.limits = {.max_routes = 3},
                       .replay_quiet = 2s,
                       .stale_hold = 60s,
                       .max_pending_errors = 2}};
};

TEST_F(FpmSessionTest, AReconnectReplaysAndSweepsWhatDidNotComeBack) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16), route("10.2.0.0", 16)}));
  now_ += 3s;
  session_.tick(now_);
  EXPECT_FALSE(session_.replaying());
  EXPECT_EQ(session_.take_changes().size(), 2u);

  session_.disconnected(now_);
  now_ += 10s;
  session_.tick(now_);
  EXPECT_EQ(held().size(), 2u) << "zebra restarting: the routes stay in use";
  session_.connected(now_);
  EXPECT_TRUE(session_.replaying());
  receive(frame({route("10.1.0.0", 16)}));
  now_ += 1s;
  session_.tick(now_);
  EXPECT_TRUE(session_.replaying()) << "not quiet for long enough";
  receive(frame({route("10.3.0.0", 16)}));
  now_ += 1900ms;
  session_.tick(now_);
  EXPECT_TRUE(session_.replaying()) << "the quiet period counts from the last frame";
  now_ += 100ms;
  session_.tick(now_);
  EXPECT_FALSE(session_.replaying());
  EXPECT_EQ(held(), (std::vector<net::Prefix>{prefix("10.1.0.0/16"), prefix("10.3.0.0/16")}));
  const auto changes = session_.take_changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_FALSE(changes[1].route) << "10.2.0.0/16, not sent again, withdrawn";
  EXPECT_EQ(session_.counters().resyncs, 2u);
  EXPECT_EQ(session_.counters().swept, 1u);
  EXPECT_EQ(session_.counters().connections, 2u);
}

// An update zebra sent that vigil-dp cannot take must not leave the old next hops in use:
// the prefix becomes unreachable (nor does a less specific route take it).
TEST_F(FpmSessionTest, ARefusedUpdateFailsClosed) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  (void)session_.take_changes();
  receive(frame({withdraw("10.1.0.0", 16), NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                                               .addr(kDst, "10.1.0.0")
                                               .attr(kOif, {3, 0})
                                               .build()}));
  const auto changes = session_.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].route);
  EXPECT_EQ(changes[0].route->kind, RouteKind::kUnreachable);
  EXPECT_EQ(session_.counters().errors, 1u);
  const auto errors = session_.take_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "FPM from zebra: netlink message 2 (route): 10.1.0.0/16: RTA_OIF of 2 bytes, not 4");

  // Past the store's limit: refused, counted.
  receive(frame({route("10.2.0.0", 16), route("10.3.0.0", 16), route("10.4.0.0", 16)}));
  EXPECT_EQ(session_.store().routes(), 3u);
  EXPECT_EQ(session_.counters().errors, 2u);
  EXPECT_EQ(session_.take_errors()[0],
            "FPM from zebra: 10.4.0.0/16: more than 3 routes from zebra");
}

TEST_F(FpmSessionTest, AStreamThatMakesNoSenseEndsTheConnection) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  Status bad = session_.receive(std::vector<uint8_t>{2, 1, 0, 4}, now_);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "FPM protocol version 2, not 1");
  EXPECT_EQ(session_.counters().stream_errors, 1u);
  session_.disconnected(now_);
  EXPECT_EQ(held().size(), 1u) << "what was applied before stays";
  // A new connection is a new stream: no byte of the old one is left in it.
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  EXPECT_EQ(session_.counters().frames, 2u);
}

TEST_F(FpmSessionTest, ZebraGoneForGoodTakesItsRoutes) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  now_ += 3s;
  session_.tick(now_);
  (void)session_.take_changes();
  session_.disconnected(now_);
  now_ += 59s;
  session_.tick(now_);
  EXPECT_EQ(held().size(), 1u);
  now_ += 1s;
  session_.tick(now_);
  EXPECT_TRUE(held().empty());
  const auto changes = session_.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].route);
  EXPECT_EQ(session_.take_errors().back(),
            "FPM: zebra has been away for 60 s; its routes are withdrawn from the fast path");
}

TEST_F(FpmSessionTest, ErrorsKeptForTheLogAreBounded) {
  session_.connected(now_);
  std::vector<std::vector<uint8_t>> bad;
  bad.reserve(5);
  for (int i = 0; i < 5; ++i) {
    bad.push_back(NetlinkBuilder::route(kRtmNewRoute, kInet, 16).attr(kOif, {3, 0}).build());
  }
  receive(frame(bad));
  EXPECT_EQ(session_.counters().errors, 5u);
  const auto errors = session_.take_errors();
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[2], "FPM: 3 more errors not listed");
  EXPECT_TRUE(session_.take_errors().empty());
}

// Refused messages take their place in zebra's order: a refused delete before an add leaves
// the add; a refused add before a delete leaves nothing (not a discard).
TEST_F(FpmSessionTest, RefusalsKeepZebrasOrder) {
  session_.connected(now_);
  const auto bad_delete = NetlinkBuilder::route(kRtmDelRoute, kInet, 16, 0)
                              .addr(kDst, "10.1.0.0")
                              .attr(kOif, {3, 0})
                              .build();
  receive(frame({bad_delete, route("10.1.0.0", 16)}));
  EXPECT_EQ(held(), std::vector<net::Prefix>{prefix("10.1.0.0/16")});
  const auto bad_add = NetlinkBuilder::route(kRtmNewRoute, kInet, 16)
                           .addr(kDst, "10.2.0.0")
                           .attr(kOif, {3, 0})
                           .build();
  receive(frame({bad_add, withdraw("10.2.0.0", 16)}));
  EXPECT_EQ(session_.store().routes(), 1u) << "10.2.0.0/16 deleted, not left unreachable";
}

// The replay is not over while bytes keep coming, a frame is half read, or bytes wait on the
// connection: only quiet counts.
TEST_F(FpmSessionTest, AReplayIsNotSweptWhileBytesAreComingOrWaiting) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  now_ += 3s;
  session_.tick(now_);
  session_.disconnected(now_);
  session_.connected(now_);
  const auto f = frame({route("10.2.0.0", 16)});
  now_ += 1500ms;
  receive({f.begin(), f.begin() + 5});  // half a frame
  now_ += 3s;
  session_.tick(now_);
  EXPECT_TRUE(session_.replaying()) << "a frame is half read";
  receive({f.begin() + 5, f.end()});
  now_ += 3s;
  session_.tick(now_, /*unread=*/true);
  EXPECT_TRUE(session_.replaying()) << "bytes wait on the connection";
  session_.tick(now_);
  EXPECT_FALSE(session_.replaying());
  EXPECT_EQ(held(), std::vector<net::Prefix>{prefix("10.2.0.0/16")});
}

// zebra connecting and dropping again before it has replayed does not keep its routes alive
// past the hold: it counts from the first disconnect after the last complete replay.
TEST_F(FpmSessionTest, ZebraFlappingDoesNotHoldItsRoutesForever) {
  session_.connected(now_);
  receive(frame({route("10.1.0.0", 16)}));
  now_ += 3s;
  session_.tick(now_);
  for (int i = 0; i < 70; ++i) {
    session_.disconnected(now_);
    now_ += 500ms;
    session_.tick(now_);
    session_.connected(now_);
    now_ += 500ms;
    session_.tick(now_);
  }
  session_.disconnected(now_);
  session_.tick(now_);
  EXPECT_TRUE(held().empty());
}

}  // namespace
}  // namespace vigil::fpm

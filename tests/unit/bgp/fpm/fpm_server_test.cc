// The FPM listener on a real loopback socket and event loop, with the peer's owner given by
// the test: zebra's frames reach the session; a connection from a user not allowed is closed
// at once; a newer connection replaces the older; zebra closing starts the session's wait.
#include "bgp/fpm/fpm_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "tests/unit/bgp/fpm/netlink_builder.h"

namespace vigil::fpm {
namespace {

using test::frame;
using test::NetlinkBuilder;

constexpr uid_t kFrr = 104, kSomeoneElse = 1000;

std::vector<uint8_t> route(const char* dst) {
  return NetlinkBuilder::route(kRtmNewRoute, 2, 24)
      .addr(1, dst)  // RTA_DST
      .attr32(4, 3)  // RTA_OIF
      .build();
}

class FpmServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = FpmServer::start(
        loop_, {.port = 0, .allowed_users = {kFrr}, .read_budget = 4096}, session_,
        [this] { ++received_; }, [this](int) -> Expected<uid_t> { return next_owner_; });
    ASSERT_TRUE(s) << s.error();
    server_ = std::move(*s);
  }
  UniqueFd connect() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{.sin_family = AF_INET,
                   .sin_port = htons(server_->port()),
                   .sin_addr = {htonl(INADDR_LOOPBACK)}};
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
    return fd;
  }
  void send(const UniqueFd& fd, const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Runs the loop until `done` or a second has passed.
  template <typename Done>
  bool run_until(Done done) {
    for (int i = 0; i < 100 && !done(); ++i) {
      loop_.run_once(10);
    }
    return done();
  }
  // Whether the server closed `fd` (it reads EOF).
  static bool closed_by_server(const UniqueFd& fd) {
    pollfd p{.fd = fd.get(), .events = POLLIN};
    if (::poll(&p, 1, 1000) != 1) {
      return false;
    }
    char b = 0;
    return ::recv(fd.get(), &b, 1, MSG_DONTWAIT) == 0;
  }

  EventLoop loop_;
  FpmSession session_;
  std::unique_ptr<FpmServer> server_;
  Expected<uid_t> next_owner_ = uid_t{kFrr};
  int received_ = 0;
};

TEST_F(FpmServerTest, ZebrasFramesReachTheSession) {
  UniqueFd zebra = connect();
  send(zebra, frame({route("10.1.0.0"), route("10.2.0.0")}));
  ASSERT_TRUE(run_until([&] { return session_.store().routes() == 2; }));
  EXPECT_TRUE(session_.is_connected());
  EXPECT_GE(received_, 1);
  EXPECT_EQ(server_->counters().accepted, 1u);
}

// Bytes past one wakeup's budget are read on the next ones; none is lost.
TEST_F(FpmServerTest, AStreamPastTheReadBudgetIsReadOverSeveralWakeups) {
  UniqueFd zebra = connect();
  std::vector<uint8_t> stream;
  for (int i = 0; i < 200; ++i) {
    const std::string dst = "10." + std::to_string(i) + ".0.0";
    const auto f = frame({route(dst.c_str())});
    stream.insert(stream.end(), f.begin(), f.end());
  }
  send(zebra, stream);
  ASSERT_TRUE(run_until([&] { return session_.store().routes() == 200; }));
  EXPECT_GE(received_, 2) << "one wakeup reads at most 4096 bytes";
}

TEST_F(FpmServerTest, AConnectionFromAnotherUserIsClosedAtOnce) {
  next_owner_ = uid_t{kSomeoneElse};
  UniqueFd intruder = connect();
  run_until([&] { return server_->counters().refused_peers == 1; });
  EXPECT_EQ(server_->counters().refused_peers, 1u);
  EXPECT_TRUE(closed_by_server(intruder));
  next_owner_ = fail("sock_diag: the peer's socket: No such file or directory");
  UniqueFd unknown = connect();
  run_until([&] { return server_->counters().refused_peers == 2; });
  EXPECT_TRUE(closed_by_server(unknown)) << "an owner the kernel cannot name is refused too";
  EXPECT_FALSE(session_.is_connected());
  next_owner_ = uid_t{0};
  UniqueFd root = connect();
  ASSERT_TRUE(run_until([&] { return session_.is_connected(); }));
}

TEST_F(FpmServerTest, ANewerConnectionReplacesTheOlderAndAClosedOneIsNoticed) {
  UniqueFd first = connect();
  ASSERT_TRUE(run_until([&] { return server_->counters().accepted == 1; }));
  UniqueFd second = connect();
  ASSERT_TRUE(run_until([&] { return server_->counters().accepted == 2; }));
  EXPECT_EQ(server_->counters().replaced, 1u);
  EXPECT_TRUE(closed_by_server(first));
  EXPECT_EQ(session_.counters().connections, 2u);
  send(second, frame({route("10.1.0.0")}));
  ASSERT_TRUE(run_until([&] { return session_.store().routes() == 1; }));
  second.reset();
  ASSERT_TRUE(run_until([&] { return !session_.is_connected(); }));
  EXPECT_EQ(session_.store().routes(), 1u) << "kept while zebra may come back";
}

TEST_F(FpmServerTest, AStreamThatMakesNoSenseIsClosed) {
  UniqueFd zebra = connect();
  ASSERT_TRUE(run_until([&] { return session_.is_connected(); }));
  send(zebra, {2, 1, 0, 4});
  ASSERT_TRUE(run_until([&] { return !session_.is_connected(); }));
  EXPECT_TRUE(closed_by_server(zebra));
  EXPECT_EQ(session_.counters().stream_errors, 1u);
}

TEST(FpmServerStartTest, AnAddressInUseOrNotAnAddressIsAnError) {
  EventLoop loop;
  FpmSession session;
  auto owner = [](int) -> Expected<uid_t> { return uid_t{0}; };
  auto first = FpmServer::start(loop, {.port = 0}, session, nullptr, owner);
  ASSERT_TRUE(first) << first.error();
  auto second = FpmServer::start(loop, {.port = (*first)->port()}, session, nullptr, owner);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("FPM listener: bind to 127.0.0.1 port"), std::string::npos)
      << second.error();
  auto bad = FpmServer::start(loop, {.address = "localhost"}, session, nullptr, owner);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "FPM listener: \"localhost\" is not an IP address");
}

}  // namespace
}  // namespace vigil::fpm

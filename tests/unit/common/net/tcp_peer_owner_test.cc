// The owner of a loopback TCP connection's other end, from the kernel: this process's own
// connection names its uid; a child that connected after dropping to another user names that
// user's (needs root to drop, skipped otherwise).
#include "common/net/tcp_peer_owner.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace vigil::net {
namespace {

constexpr uid_t kNobody = 65534;

// A listener on 127.0.0.1 and an ephemeral port.
UniqueFd listen_loopback(sockaddr_in& bound) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  bound = sockaddr_in{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
  socklen_t len = sizeof(bound);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) != 0 ||
      ::listen(fd.get(), 4) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return {};
  }
  return fd;
}

UniqueFd connect_to(const sockaddr_in& to) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    return {};
  }
  return fd;
}

TEST(TcpPeerOwnerTest, NamesTheUserAtTheOtherEnd) {
  sockaddr_in at{};
  UniqueFd listener = listen_loopback(at);
  ASSERT_TRUE(listener.valid());
  UniqueFd client = connect_to(at);
  ASSERT_TRUE(client.valid());
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  auto owner = tcp_peer_owner(accepted.get());
  ASSERT_TRUE(owner) << owner.error();
  EXPECT_EQ(*owner, ::geteuid());
  auto other_way = tcp_peer_owner(client.get());
  ASSERT_TRUE(other_way) << other_way.error();
  EXPECT_EQ(*other_way, ::geteuid());
}

TEST(TcpPeerOwnerTest, AnotherUsersConnectionNamesThatUser) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to connect as another user";
  }
  sockaddr_in at{};
  UniqueFd listener = listen_loopback(at);
  ASSERT_TRUE(listener.valid());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    if (::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      ::_exit(2);
    }
    UniqueFd c = connect_to(at);
    char done = 0;
    (void)::write(ready[1], &done, 1);
    ::sleep(5);  // the connection stays open until the parent has looked and kills it
    ::_exit(c.valid() ? 0 : 1);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  auto owner = tcp_peer_owner(accepted.get());
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(owner) << owner.error();
  EXPECT_EQ(*owner, kNobody);
}

// A peer that connected, wrote and closed before the accept is held by no process: the kernel
// says uid 0 for it, which must not pass for root.
TEST(TcpPeerOwnerTest, APeerClosedBeforeTheAcceptIsRefused) {
  sockaddr_in at{};
  UniqueFd listener = listen_loopback(at);
  ASSERT_TRUE(listener.valid());
  {
    UniqueFd client = connect_to(at);
    ASSERT_TRUE(client.valid());
    ASSERT_EQ(::write(client.get(), "x", 1), 1);
  }
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  auto owner = tcp_peer_owner(accepted.get());
  ASSERT_FALSE(owner) << "owner " << *owner;
  EXPECT_EQ(owner.error(), "the peer's socket is closed; its owner is not known");
}

TEST(TcpPeerOwnerTest, NotAConnectedSocketIsAnError) {
  UniqueFd local(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_FALSE(tcp_peer_owner(local.get()));
  EXPECT_FALSE(tcp_peer_owner(-1));
}

}  // namespace
}  // namespace vigil::net

#include "bgp/fpm/fpm_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "common/logging.h"

namespace vigil::fpm {
namespace {

constexpr size_t kReadSize = size_t{64} * 1024;  // one FPM frame at most

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Expected<UniqueFd> listen_tcp(const std::string& address, uint16_t port, uint16_t& bound) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
             ::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    return fail("FPM listener: \"" + address + "\" is not an IP address");
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return fail(errno_text("FPM listener: socket"));
  }
  const int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const std::string where = address + " port " + std::to_string(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return fail(errno_text("FPM listener: bind to " + where));
  }
  if (::listen(fd.get(), 4) != 0) {
    return fail(errno_text("FPM listener: listen on " + where));
  }
  socklen_t got = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &got) == 0) {
    bound = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return fd;
}

}  // namespace

FpmServer::FpmServer(EventLoop& loop, const FpmServerOptions& options, FpmSession& session,
                     std::function<void()> received, PeerOwner owner_of)
    : loop_(loop),
      options_(options),
      session_(session),
      received_(std::move(received)),
      owner_of_(std::move(owner_of)) {}

Expected<std::unique_ptr<FpmServer>> FpmServer::start(EventLoop& loop,
                                                      const FpmServerOptions& options,
                                                      FpmSession& session,
                                                      std::function<void()> received,
                                                      PeerOwner owner_of) {
  std::unique_ptr<FpmServer> server(
      new FpmServer(loop, options, session, std::move(received), std::move(owner_of)));
  auto fd = listen_tcp(options.address, options.port, server->port_);
  if (!fd) {
    return fail(fd.error());
  }
  server->listener_ = std::move(*fd);
  FpmServer* self = server.get();
  if (Status ok =
          loop.add(server->listener_.get(), EPOLLIN, [self](uint32_t) { self->on_listener(); });
      !ok) {
    return fail("FPM listener: " + ok.error());
  }
  return server;
}

FpmServer::~FpmServer() {
  close_connection();
  if (listener_.valid() && !paused_until_) {
    loop_.remove(listener_.get());
  }
}

bool FpmServer::allowed(uid_t uid) const {
  return uid == 0 || std::find(options_.allowed_users.begin(), options_.allowed_users.end(), uid) !=
                         options_.allowed_users.end();
}

void FpmServer::on_listener() {
  while (true) {
    UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!c.valid()) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pause_listener(errno);
        return;
      }
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      return;  // EAGAIN: nothing more waits
    }
    auto owner = owner_of_(c.get());
    if (!owner || !allowed(*owner)) {
      ++counters_.refused_peers;
      // At most a line per refusal burst that starts: a local user looping on connect must
      // not fill the journal.
      if (counters_.refused_peers == 1 || counters_.refused_peers % 1000 == 0) {
        log::warn("FPM: refused a connection not from root or FRR's user",
                  {{"owner", owner ? std::to_string(*owner) : owner.error()},
                   {"refused", counters_.refused_peers}});
      }
      continue;
    }
    take(std::move(c));
  }
}

void FpmServer::pause_listener(int error) {
  loop_.remove(listener_.get());
  paused_until_ = Clock::now() + std::chrono::seconds(1);
  log::warn("FPM listener: accept failed; paused for a second", {{"error", std::strerror(error)}});
}

void FpmServer::tick(Clock::time_point now) {
  if (paused_until_ && now >= *paused_until_) {
    FpmServer* self = this;
    if (Status ok = loop_.add(listener_.get(), EPOLLIN, [self](uint32_t) { self->on_listener(); });
        ok) {
      paused_until_.reset();
    } else {
      paused_until_ = now + std::chrono::seconds(1);
    }
  }
  int unread = 0;
  if (connection_.valid() && ::ioctl(connection_.get(), FIONREAD, &unread) != 0) {
    unread = 0;
  }
  session_.tick(now, unread > 0);
}

void FpmServer::take(UniqueFd connection) {
  if (connection_.valid()) {
    ++counters_.replaced;
    log::info("FPM: a new connection from zebra replaces the old one");
    close_connection();
  }
  connection_ = std::move(connection);
  FpmServer* self = this;
  if (Status ok = loop_.add(connection_.get(), EPOLLIN | EPOLLRDHUP,
                            [self](uint32_t) { self->on_readable(); });
      !ok) {
    log::warn("FPM: cannot watch zebra's connection", {{"error", ok.error()}});
    connection_.reset();
    return;
  }
  ++counters_.accepted;
  session_.connected(Clock::now());
  log::info("FPM: zebra connected; replaying its routes");
}

void FpmServer::on_readable() {
  size_t read = 0;
  bool applied = false;
  while (connection_.valid() && read < options_.read_budget) {
    std::span<uint8_t> room = session_.prepare(std::min(kReadSize, options_.read_budget - read));
    const ssize_t n = ::recv(connection_.get(), room.data(), room.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n < 0) {
        log::warn("FPM: reading zebra's connection failed", {{"error", std::strerror(errno)}});
      } else {
        log::info("FPM: zebra closed the connection");
      }
      close_connection();
      break;
    }
    read += static_cast<size_t>(n);
    applied = true;
    if (Status ok = session_.commit(static_cast<size_t>(n), Clock::now()); !ok) {
      close_connection();  // the session said why; zebra connects again and replays
      break;
    }
  }
  if (applied && received_) {
    received_();
  }
}

void FpmServer::close_connection() {
  if (!connection_.valid()) {
    return;
  }
  loop_.remove(connection_.get());
  connection_.reset();
  session_.disconnected(Clock::now());
}

}  // namespace vigil::fpm

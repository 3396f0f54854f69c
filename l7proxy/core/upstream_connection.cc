#include "l7proxy/core/upstream_connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/tls/client_tls.h"

namespace vigil::l7 {

UpstreamConnection::UpstreamConnection(Reactor& reactor, UniqueFd fd, TargetRuntime& target,
                                       UpstreamOwner* owner)
    : reactor_(reactor),
      fd_(std::move(fd)),
      stream_(fd_.get()),
      target_(&target),
      owner_(owner),
      opened_(reactor.now()) {}

UpstreamConnection::~UpstreamConnection() {
  if (fd_.valid()) {
    reactor_.unwatch(fd_.get());
  }
}

ConnectStart start_connect(const sockaddr_storage& address, socklen_t length) {
  ConnectStart out;
  out.fd.reset(::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!out.fd.valid()) {
    out.error = errno;
    return out;
  }
  const int one = 1;
  ::setsockopt(out.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  out.rc = ::connect(out.fd.get(), reinterpret_cast<const sockaddr*>(&address), length);
  out.error = out.rc == 0 ? 0 : errno;
  return out;
}

Expected<std::unique_ptr<UpstreamConnection>> UpstreamConnection::connect(
    Reactor& reactor, TargetRuntime& target, const TargetSpec& spec,
    std::shared_ptr<const ClientTls> tls, UpstreamOwner* owner, bool& local_failure) {
  local_failure = true;
  ConnectStart started = start_connect(spec.address, spec.address_length);
  if (!started.fd.valid()) {
    errno = started.error;
    return fail(std::string("socket: ") + std::strerror(started.error));
  }
  const int rc = started.rc;
  if (rc != 0 && started.error != EINPROGRESS) {
    const int error = started.error;
    local_failure = error == ENOBUFS || error == ENOMEM || error == EADDRNOTAVAIL;
    errno = error;
    return fail(std::strerror(error));
  }
  local_failure = false;
  std::unique_ptr<UpstreamConnection> c(
      new UpstreamConnection(reactor, std::move(started.fd), target, owner));
  if (tls != nullptr) {
    SslPtr ssl = tls->new_session(c->fd(), spec.name, spec.address);
    if (!ssl) {
      local_failure = true;
      errno = ENOMEM;
      return fail("cannot make a TLS session");
    }
    c->stream_ = SocketStream(c->fd(), std::move(ssl));
    c->name_ = spec.name;
  }
  c->tls_ = std::move(tls);
  if (auto st = reactor.watch(c->fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, c.get()); !st) {
    local_failure = true;  // epoll's want, not the target's
    return fail(st.error());
  }
  c->tcp_connected = rc == 0;
  c->connected = rc == 0 && !c->tls_;
  return c;
}

int UpstreamConnection::connect_error() const {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
    return errno;
  }
  return error;
}

void UpstreamConnection::on_events(uint32_t events) {
  if (retired_) {
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    readable = true;
  }
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    peer_closed = true;
  }
  if ((events & EPOLLOUT) != 0) {
    writable = true;
  }
  if (read_wants_write && (events & EPOLLOUT) != 0) {
    readable = true;
    read_wants_write = false;
  }
  if (write_wants_read && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    writable = true;
    write_wants_read = false;
  }
  if (owner_ != nullptr) {
    owner_->on_upstream_events(events);
    return;
  }
  // Idle in its pool: the server closed it, or sent what nobody asked for. Either way it is
  // done; it is retired rather than freed, as this call is its own. (Writable alone is only
  // the last request's bytes draining.)
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) {
    return;
  }
  if (!peer_closed && stream_.tls() && only_tls_records()) {
    return;
  }
  if (auto self = target_->remove_idle(this)) {
    reactor_.retire(std::move(self));
  }
}

bool UpstreamConnection::only_tls_records() {
  // A TLS 1.3 server may send session tickets after the response: OpenSSL takes them in a
  // read, which then has nothing for HTTP. A byte of data, an end or an error ends it.
  char byte = 0;
  const SocketStream::Io io = stream_.read(std::span<char>(&byte, 1));
  if (io.status == SocketStream::Status::kWantRead) {
    readable = false;
    return true;
  }
  return false;
}

}  // namespace vigil::l7

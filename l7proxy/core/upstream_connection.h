// A TCP connection to an upstream target, through TLS on a TLS upstream (socket_stream.h).
// While a request uses it, its events go to that client connection (the owner); while it waits
// in its target's keep-alive pool, nobody owns it, and anything arriving on it (the server
// closing it, bytes it had no request for; not a TLS session ticket) ends it there.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/expected.h"
#include "common/unique_fd.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/socket_stream.h"

namespace vigil::l7 {

struct TargetRuntime;
struct TargetSpec;
class ClientTls;

class UpstreamOwner {
 public:
  virtual void on_upstream_events(uint32_t events) = 0;

 protected:
  ~UpstreamOwner() = default;
};

// A TCP connect to `address` begun without blocking (TCP_NODELAY set): the socket, and
// connect(2)'s result (0: connected at once; -1 with `error` EINPROGRESS: under way; else
// failed with `error`). No socket at all: fd not valid, `error` socket(2)'s. Shared by the
// upstream connections and the health checks.
struct ConnectStart {
  UniqueFd fd;
  int rc = -1;
  int error = 0;
};
ConnectStart start_connect(const sockaddr_storage& address, socklen_t length);

class UpstreamConnection final : public Pollable {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kBufferCap = size_t{64} * 1024;

  // A non-blocking connect to `spec` under way (or done at once); watched by `reactor` for
  // `owner`; with `tls`, its session made, the handshake to follow the connect.
  // `local_failure` says a failure was this side's (no descriptor, no memory, no local port),
  // not the target's; errno holds the error.
  static Expected<std::unique_ptr<UpstreamConnection>> connect(
      Reactor& reactor, TargetRuntime& target, const TargetSpec& spec,
      std::shared_ptr<const ClientTls> tls, UpstreamOwner* owner, bool& local_failure);
  ~UpstreamConnection() override;

  void on_events(uint32_t events) override;

  int fd() const { return fd_.get(); }
  TargetRuntime& target() const { return *target_; }
  Clock::time_point opened() const { return opened_; }
  void set_owner(UpstreamOwner* owner) { owner_ = owner; }
  // Done with, and about to go: events still queued for it are ignored.
  void retire() { retired_ = true; }
  // The connect's outcome once the socket is writable: 0 or the errno.
  int connect_error() const;
  SocketStream& stream() { return stream_; }
  // Whether a request for a target named `name`, under TLS context `tls` (null: in the clear),
  // may take this connection: it was made the same way. A commit or SIGHUP that loads the
  // contexts again leaves the connections made before to close.
  bool made_for(const ClientTls* tls, const std::string& name) const {
    return tls_.get() == tls && (tls == nullptr || name_ == name);
  }

  ByteBuffer in{kBufferCap};
  bool readable = false;
  bool writable = false;
  bool eof = false;
  bool peer_closed = false;  // EPOLLRDHUP/HUP/ERR seen: read on to the end
  bool tcp_connected = false;
  bool connected = false;  // and through TLS's handshake: HTTP may go
  // TLS: a read that must wait until the socket is writable, or a write until it is readable.
  bool read_wants_write = false;
  bool write_wants_read = false;
  Clock::time_point idle_since{};

 private:
  UpstreamConnection(Reactor& reactor, UniqueFd fd, TargetRuntime& target, UpstreamOwner* owner);
  // Idle, readable: whether only TLS's own records came (a session ticket), nothing to end it.
  bool only_tls_records();

  Reactor& reactor_;
  UniqueFd fd_;
  SocketStream stream_;
  std::shared_ptr<const ClientTls> tls_;  // what it was made with (null: in the clear)
  std::string name_;                      // and the name it was verified for
  TargetRuntime* target_;
  UpstreamOwner* owner_;
  bool retired_ = false;
  Clock::time_point opened_;
};

}  // namespace vigil::l7

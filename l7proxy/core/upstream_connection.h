// A TCP connection to an upstream target. While a request uses it, its events go to that
// client connection (the owner); while it waits in its target's keep-alive pool, nobody owns
// it, and anything arriving on it (the server closing it, bytes it had no request for) ends
// it there.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>

#include "common/expected.h"
#include "common/unique_fd.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/reactor.h"

namespace vigil::l7 {

struct TargetRuntime;

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

  // A non-blocking connect under way (or done at once); watched by `reactor` for `owner`.
  // `local_failure` says a failure was this side's (no descriptor, no memory, no local port),
  // not the target's; errno holds the error.
  static Expected<std::unique_ptr<UpstreamConnection>> connect(
      Reactor& reactor, TargetRuntime& target, const sockaddr_storage& address, socklen_t length,
      UpstreamOwner* owner, bool& local_failure);
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

  ByteBuffer in{kBufferCap};
  bool readable = false;
  bool writable = false;
  bool eof = false;
  bool peer_closed = false;  // EPOLLRDHUP/HUP/ERR seen: read on to the end
  bool connected = false;
  Clock::time_point idle_since{};

 private:
  UpstreamConnection(Reactor& reactor, UniqueFd fd, TargetRuntime& target, UpstreamOwner* owner);

  Reactor& reactor_;
  UniqueFd fd_;
  TargetRuntime* target_;
  UpstreamOwner* owner_;
  bool retired_ = false;
  Clock::time_point opened_;
};

}  // namespace vigil::l7

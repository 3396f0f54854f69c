// The TCP end zebra's dplane_fpm_nl connects to (`fpm address 127.0.0.1`, port 2620), on the
// caller's event loop. One zebra at a time: a newer connection replaces the old one (zebra
// connects again when it believes the old one died, so the newer is the live one). Anyone on
// the host can connect to a loopback port, so a connection is taken only from root or the
// users named (FRR's), asked of the kernel (net::tcp_peer_owner); others are closed at once,
// counted and logged.
//
// Reads are bounded per wakeup (a zebra replaying a million routes must not starve the rest
// of the loop); what is left is read on the next one. Nothing is ever written back: FRR 8.4
// ignores it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bgp/fpm/fpm_session.h"
#include "common/event_loop.h"
#include "common/expected.h"
#include "common/unique_fd.h"

namespace vigil::fpm {

inline constexpr uint16_t kFpmDefaultPort = 2620;

struct FpmServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = kFpmDefaultPort;
  std::vector<uid_t> allowed_users;  // besides root
  size_t read_budget = 1u << 20;     // bytes per wakeup
};

struct FpmServerCounters {
  uint64_t accepted = 0;
  uint64_t refused_peers = 0;  // connections from a user not allowed, or of no known owner
  uint64_t replaced = 0;       // connections a newer one from zebra replaced
};

class FpmServer {
 public:
  using PeerOwner = std::function<Expected<uid_t>(int fd)>;
  using Clock = FpmSession::Clock;

  // Listens at once (an address in use is an error). `received` runs on the loop after
  // bytes were applied to `session`, for the caller to take its changes. `loop` and
  // `session` must outlive the server.
  static Expected<std::unique_ptr<FpmServer>> start(EventLoop& loop,
                                                    const FpmServerOptions& options,
                                                    FpmSession& session,
                                                    std::function<void()> received,
                                                    PeerOwner owner_of);
  ~FpmServer();
  FpmServer(const FpmServer&) = delete;
  FpmServer& operator=(const FpmServer&) = delete;

  // The session's tick (a replay is not over while bytes wait unread on the connection), and
  // the listener watched again after a pause for want of file descriptors.
  void tick(Clock::time_point now);

  const FpmServerCounters& counters() const { return counters_; }
  uint16_t port() const { return port_; }  // the one bound (options.port 0: the kernel's pick)

 private:
  FpmServer(EventLoop& loop, const FpmServerOptions& options, FpmSession& session,
            std::function<void()> received, PeerOwner owner_of);
  void on_listener();
  // accept() failed for want of resources: the listener, level-triggered, would fire again at
  // once; it is left unwatched for a second.
  void pause_listener(int error);
  void take(UniqueFd connection);
  void on_readable();
  void close_connection();
  bool allowed(uid_t uid) const;

  EventLoop& loop_;
  FpmServerOptions options_;
  FpmSession& session_;
  std::function<void()> received_;
  PeerOwner owner_of_;
  UniqueFd listener_;
  UniqueFd connection_;
  uint16_t port_ = 0;
  FpmServerCounters counters_;
  std::optional<Clock::time_point> paused_until_;
};

}  // namespace vigil::fpm

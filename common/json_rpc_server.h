// Serves a Dispatcher on a UNIX stream socket from an EventLoop: non-blocking, a framer and an
// output buffer per connection, hard limits on request size, connections (in all and per
// user), buffered input, unread output, idle time and the time to finish a request. The
// daemon's own user (vigild, root) has connections kept for it, so strangers filling the
// socket never lock vigild out of its components. docs/operations.md lists every limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/event_loop.h"
#include "common/json_rpc.h"
#include "common/unix_socket.h"

namespace vigil::rpc {

struct ServerOptions {
  std::string path;
  ListenOptions listen;
  size_t max_request_bytes = 1 << 20;     // one line; larger gets kRequestTooLarge and a close
  size_t max_connections = 64;            // more get kTooManyConnections and a close
  size_t owner_reserved_connections = 8;  // beyond max_connections, for the owner only
  size_t max_connections_per_user = 16;   // per uid other than the owner's
  // Unfinished request bytes over all connections; past it the connection that would grow it
  // gets kServerBusy and a close. 0: four times max_request_bytes.
  size_t max_buffered_input = 0;
  size_t max_pending_output = 16 << 20;  // a client that stops reading is disconnected
  // A connection that sends nothing for this long is closed (clients reconnect by themselves).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // A request line must be complete this long after its first byte arrived.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds sweep_interval = std::chrono::seconds(1);
  // Tests stand in for SO_PEERCRED here to play other users.
  std::function<PeerCredentials(int fd)> peer_lookup;
};

class Server {
 public:
  Server(EventLoop& loop, const Dispatcher& dispatcher, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens and registers with the loop.
  Status start();
  // Closes every connection and the listener, and removes the socket file.
  void stop();

  size_t connection_count() const { return connections_.size(); }
  const std::string& path() const { return options_.path; }

 private:
  struct Connection;

  void on_accept();
  void on_event(int fd, uint32_t events);
  void handle_readable(Connection& c);
  // Handles the connection's waiting lines in order until one is answered later.
  void run_queued(Connection& c);
  // A deferred method's answer for connection `id`, on the loop's thread.
  void on_reply(uint64_t id, std::optional<std::string> reply);
  static uint32_t events_of(const Connection& c);
  // Queues `error` as the connection's last answer, closes it once sent, and logs `why`.
  void answer_and_close(Connection& c, const Error& error, std::string_view why);
  void flush(Connection& c);
  void close_connection(int fd);
  // Closes connections past their idle or request time.
  void sweep();
  // Why a new connection from `peer` is refused, or "".
  std::string refusal(const PeerCredentials& peer) const;
  size_t buffered_input() const;
  // Bytes of requests from `uid` not handled yet: unfinished lines and queued ones.
  size_t unfinished_of(uid_t uid) const;

  EventLoop& loop_;
  const Dispatcher& dispatcher_;
  ServerOptions options_;
  UniqueFd listener_;
  int sweep_timer_ = -1;
  std::map<int, std::unique_ptr<Connection>> connections_;
  uint64_t next_id_ = 1;
};

}  // namespace vigil::rpc

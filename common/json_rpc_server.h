// Serves a Dispatcher on a UNIX stream socket from an EventLoop: non-blocking, a framer and an
// output buffer per connection, hard limits on request size, connections and unread output.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "common/event_loop.h"
#include "common/json_rpc.h"
#include "common/unix_socket.h"

namespace vigil::rpc {

struct ServerOptions {
  std::string path;
  ListenOptions listen;
  size_t max_request_bytes = 1 << 20;    // one line; larger gets kRequestTooLarge and a close
  size_t max_connections = 64;           // more get kTooManyConnections and a close
  size_t max_pending_output = 16 << 20;  // a client that stops reading is disconnected
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
  void flush(Connection& c);
  void close_connection(int fd);

  EventLoop& loop_;
  const Dispatcher& dispatcher_;
  ServerOptions options_;
  UniqueFd listener_;
  std::map<int, std::unique_ptr<Connection>> connections_;
};

}  // namespace vigil::rpc

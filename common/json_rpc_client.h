// A blocking JSON-RPC client for one UNIX socket: the CLI, vigild talking to components, and
// tests use it. One call at a time per client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/json_rpc.h"
#include "common/line_framer.h"
#include "common/unique_fd.h"

namespace vigil::rpc {

class Client {
 public:
  explicit Client(std::string path, size_t max_response_bytes = 64 << 20);

  // Connects on first use and reconnects after a transport failure. Transport failures come
  // back as kNotListening (could not connect), kTransportError or kTimeout, which never
  // travel on the wire.
  CallResult call(std::string_view method, const nlohmann::json& params = nlohmann::json::object(),
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

  const std::string& path() const { return path_; }
  // The process listening on the socket when the connection in use was made (SO_PEERCRED),
  // 0 while not connected: tells a restarted server from the one before.
  pid_t server_pid() const { return server_pid_; }

 private:
  CallResult fail_transport(int code, std::string message);

  std::string path_;
  size_t max_response_bytes_;
  UniqueFd fd_;
  std::unique_ptr<LineFramer> framer_;
  int64_t next_id_ = 1;
  pid_t server_pid_ = 0;
};

}  // namespace vigil::rpc

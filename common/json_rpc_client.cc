#include "common/json_rpc_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/json_bounded.h"
#include "common/unix_socket.h"

namespace vigil::rpc {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

Client::Client(std::string path, size_t max_response_bytes)
    : path_(std::move(path)), max_response_bytes_(max_response_bytes) {}

CallResult Client::fail_transport(int code, std::string message) {
  fd_.reset();  // the stream may hold half a response: never reuse it
  framer_.reset();
  server_pid_ = 0;
  return Error{code, std::move(message)};
}

CallResult Client::call(std::string_view method, const json& params,
                        std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (fd_.valid()) {
    // Servers close idle connections: a kept one the server has hung up on is replaced
    // before the request goes out, so nothing is sent into a closed stream.
    pollfd pfd{fd_.get(), POLLIN | POLLRDHUP, 0};
    if (::poll(&pfd, 1, 0) > 0) {
      fd_.reset();
      framer_.reset();
    }
  }
  if (!fd_.valid()) {
    int error = 0;
    auto fd = connect_unix(path_, timeout, &error);
    if (!fd) {
      // Only a socket nobody listens on means "not running"; a full backlog is a server that
      // is there but not accepting, which is a timeout like any other silence.
      return fail_transport(nothing_listens(error) ? kNotListening : kTimeout, fd.error());
    }
    fd_ = std::move(fd).value();
    framer_ = std::make_unique<LineFramer>(max_response_bytes_);
    server_pid_ = peer_credentials(fd_.get()).pid;
  }
  const int64_t id = next_id_++;
  const std::string request =
      json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n";
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd_.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail_transport(kTransportError,
                            "cannot send to " + path_ + ": " + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }

  std::optional<json> response;
  std::string protocol_error;
  char buf[64 * 1024];
  while (!response && protocol_error.empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return fail_transport(kTimeout, "no answer from " + path_ + " to \"" + std::string(method) +
                                          "\" within " + std::to_string(timeout.count()) + " ms");
    }
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail_transport(kTransportError, path_ + " closed the connection before answering");
    }
    const auto status =
        framer_->feed(std::string_view(buf, static_cast<size_t>(n)), [&](std::string_view line) {
          if (response || !protocol_error.empty()) {
            return;
          }
          auto parsed = parse_json_bounded(line);
          if (!parsed || !parsed->is_object()) {
            protocol_error = "malformed response from " + path_ +
                             (parsed ? ": not an object" : ": " + parsed.error());
            return;
          }
          json& j = *parsed;
          if (j.value("id", json()) == json(id) || j.value("id", json()).is_null()) {
            // A null id is the server rejecting our request
            // before it could read the id (size limits).
            response = std::move(j);
          }
        });
    if (status == LineFramer::Status::kOverflow) {
      return fail_transport(kTransportError, "response from " + path_ + " exceeds " +
                                                 std::to_string(max_response_bytes_) + " bytes");
    }
  }
  if (!protocol_error.empty()) {
    return fail_transport(kTransportError, protocol_error);
  }
  if (const auto err = response->find("error"); err != response->end() && err->is_object()) {
    return Error{err->value("code", static_cast<int>(kInternalError)),
                 err->value("message", std::string("(no message)")), err->value("data", json())};
  }
  if (const auto res = response->find("result"); res != response->end()) {
    return *res;
  }
  return fail_transport(kTransportError,
                        "response from " + path_ + " has neither result nor error");
}

}  // namespace vigil::rpc

#include "common/json_rpc_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/line_framer.h"
#include "common/logging.h"

namespace vigil::rpc {

struct Server::Connection {
  Connection(UniqueFd f, size_t max_line) : fd(std::move(f)), framer(max_line) {}
  UniqueFd fd;
  LineFramer framer;
  CallContext context;
  std::string output;
  size_t output_sent = 0;
  bool close_after_flush = false;  // no more reading; close once output is written
  bool waiting_writable = false;   // EPOLLOUT armed because the socket buffer was full
};

Server::Server(EventLoop& loop, const Dispatcher& dispatcher, ServerOptions options)
    : loop_(loop), dispatcher_(dispatcher), options_(std::move(options)) {}

Server::~Server() {
  stop();
}

Status Server::start() {
  auto fd = listen_unix(options_.path, options_.listen);
  if (!fd) {
    return fail(fd.error());
  }
  listener_ = std::move(fd).value();
  return loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { on_accept(); });
}

void Server::stop() {
  while (!connections_.empty()) {
    close_connection(connections_.begin()->first);
  }
  if (listener_.valid()) {
    loop_.remove(listener_.get());
    listener_.reset();
    ::unlink(options_.path.c_str());
  }
}

void Server::on_accept() {
  while (true) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EINTR) {
        log::warn("accept failed", {{"socket", options_.path}, {"error", std::strerror(errno)}});
      }
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      const std::string line =
          error_line(Error{
              kTooManyConnections,
              "too many connections (limit " + std::to_string(options_.max_connections) + ")"}) +
          "\n";
      [[maybe_unused]] ssize_t n = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL);
      log::warn("connection refused: limit reached",
                {{"socket", options_.path}, {"limit", options_.max_connections}});
      continue;
    }
    const int raw = fd.get();
    auto conn = std::make_unique<Connection>(std::move(fd), options_.max_request_bytes);
    conn->context.peer = peer_credentials(raw);
    connections_.emplace(raw, std::move(conn));
    if (auto st =
            loop_.add(raw, EPOLLIN | EPOLLRDHUP, [this, raw](uint32_t ev) { on_event(raw, ev); });
        !st) {
      log::warn("cannot watch connection", {{"error", st.error()}});
      connections_.erase(raw);
    }
  }
}

void Server::on_event(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  if ((events & EPOLLIN) != 0 && !c.close_after_flush) {
    handle_readable(c);
  }
  if (connections_.find(fd) == connections_.end()) {
    return;
  }
  if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
    close_connection(fd);
    return;
  }
  flush(c);
}

void Server::handle_readable(Connection& c) {
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        c.close_after_flush = true;
      }
      return;
    }
    if (n == 0) {
      // The peer finished sending; answer what it asked, then close.
      c.close_after_flush = true;
      return;
    }
    const auto status =
        c.framer.feed(std::string_view(buf, static_cast<size_t>(n)), [&](std::string_view line) {
          if (auto reply = dispatcher_.handle_line(line, c.context)) {
            c.output += *reply;
            c.output += '\n';
          }
        });
    if (status == LineFramer::Status::kOverflow) {
      c.output += error_line(Error{
          kRequestTooLarge,
          "request exceeds the limit of " + std::to_string(options_.max_request_bytes) + " bytes"});
      c.output += '\n';
      c.close_after_flush = true;
      log::warn("request too large; closing connection",
                {{"socket", options_.path}, {"peer_pid", c.context.peer.pid}});
      return;
    }
    if (c.output.size() - c.output_sent > options_.max_pending_output) {
      log::warn("client does not read its responses; closing connection",
                {{"socket", options_.path}, {"peer_pid", c.context.peer.pid}});
      close_connection(c.fd.get());
      return;
    }
  }
}

void Server::flush(Connection& c) {
  const int fd = c.fd.get();
  while (c.output_sent < c.output.size()) {
    const ssize_t n =
        ::send(fd, c.output.data() + c.output_sent, c.output.size() - c.output_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        if (!c.waiting_writable && !loop_.modify(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP)) {
          close_connection(fd);
          return;
        }
        c.waiting_writable = true;
        return;
      }
      close_connection(fd);
      return;
    }
    c.output_sent += static_cast<size_t>(n);
  }
  c.output.clear();
  c.output_sent = 0;
  if (c.close_after_flush) {
    close_connection(fd);
    return;
  }
  // Only touch epoll when EPOLLOUT was armed: the common case costs no extra syscall.
  if (c.waiting_writable) {
    c.waiting_writable = false;
    if (!loop_.modify(fd, EPOLLIN | EPOLLRDHUP)) {
      close_connection(fd);
    }
  }
}

void Server::close_connection(int fd) {
  loop_.remove(fd);
  connections_.erase(fd);
}

}  // namespace vigil::rpc

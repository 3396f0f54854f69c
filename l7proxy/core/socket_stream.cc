#include "l7proxy/core/socket_stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace vigil::l7 {

SocketStream::Status SocketStream::handshake() {
  return tls_on_ ? tls_.handshake() : Status::kDone;
}

SocketStream::Io SocketStream::read(std::span<char> into) {
  if (tls_on_) {
    const Io io = tls_.read(into);
    if (io.status == Status::kClosed && !tls_.close_notify_received()) {
      truncated_ = true;
      return {Status::kFailed, 0};
    }
    return io;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (n > 0) {
      return {Status::kDone, static_cast<size_t>(n)};
    }
    if (n == 0) {
      return {Status::kClosed, 0};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {Status::kWantRead, 0};
    }
    error_ = errno;
    return {Status::kFailed, 0};
  }
}

SocketStream::Io SocketStream::write(std::span<const char> from) {
  if (tls_on_) {
    return tls_.write(from);
  }
  for (;;) {
    const ssize_t n = ::send(fd_, from.data(), from.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      return {Status::kDone, static_cast<size_t>(n)};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {Status::kWantWrite, 0};
    }
    error_ = errno;
    return {Status::kFailed, 0};
  }
}

void SocketStream::shut_write() {
  // Under TLS 1.2 a peer answers close_notify by closing its side too, which would cut what
  // it still has to send: a half-close there is the FIN alone.
  if (tls_on_ && tls_.version() == "TLSv1.3") {
    tls_.close_notify();
  }
  ::shutdown(fd_, SHUT_WR);
}

std::string SocketStream::failure() const {
  if (!tls_on_) {
    return error_ != 0 ? std::strerror(error_) : "connection closed";
  }
  if (truncated_) {
    return "closed without close_notify";
  }
  if (tls_.error().empty()) {
    return "closed during the handshake";
  }
  const std::string_view verify = tls_.verify_failure();
  return verify.empty() ? tls_.error() : tls_.error() + ": " + std::string(verify);
}

}  // namespace vigil::l7

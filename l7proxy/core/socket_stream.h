// What a connection reads and writes through: the socket itself, or a TLS session over it
// (an upstream's, client_tls.h, or a client's HTTP/2 connection's, server_tls.h), in
// TlsStream's terms either way, so the HTTP above it and the health checks handle both alike.
// In the clear, the handshake is done at once and a FIN is kClosed. Through TLS a FIN without
// close_notify is kFailed (truncated()): someone on the path may have cut the stream, so a
// body that ends at the close is not taken as whole.
#pragma once

#include <span>
#include <string>

#include "l7proxy/tls/tls_stream.h"

namespace vigil::l7 {

class SocketStream {
 public:
  using Status = TlsStream::Status;
  using Io = TlsStream::Io;

  explicit SocketStream(int fd) : fd_(fd) {}
  SocketStream(int fd, SslPtr ssl) : fd_(fd), tls_(std::move(ssl)), tls_on_(true) {}
  // A session whose handshake is under way or done already.
  SocketStream(int fd, TlsStream&& tls) : fd_(fd), tls_(std::move(tls)), tls_on_(true) {}

  bool tls() const { return tls_on_; }
  TlsStream* tls_session() { return tls_on_ ? &tls_ : nullptr; }
  // TLS: the handshake's next step, once the socket is connected. In the clear: kDone.
  Status handshake();
  Io read(std::span<char> into);
  Io write(std::span<const char> from);
  // This side sends no more: TLS 1.3's close_notify if it can go without waiting, then the
  // FIN.
  void shut_write();
  // The last kFailed was a close without close_notify, not an error TLS or the system said.
  bool truncated() const { return truncated_; }
  // Why the last call failed: the system's words, or OpenSSL's with the certificate check's
  // reason when that is what failed.
  std::string failure() const;

 private:
  int fd_;
  TlsStream tls_{nullptr};
  bool tls_on_ = false;
  int error_ = 0;  // in the clear: the last failure's errno
  bool truncated_ = false;
};

}  // namespace vigil::l7

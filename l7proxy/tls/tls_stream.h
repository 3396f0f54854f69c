// A TLS session over a non-blocking socket, in the terms an event loop wants: each call says
// whether it did something, or must wait for the socket to become readable or writable, or
// the session ended (the peer's close_notify, or a close without one), or failed. OpenSSL's
// error queue is per thread and cleared before each call, so one connection's failure is never
// read as another's.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "l7proxy/tls/server_tls.h"

namespace vigil::l7 {

class TlsStream {
 public:
  enum class Status { kDone, kWantRead, kWantWrite, kClosed, kFailed };
  struct Io {
    Status status = Status::kFailed;
    size_t bytes = 0;
  };

  explicit TlsStream(SslPtr ssl) : ssl_(std::move(ssl)) {}

  // Done: reads from then on take what the socket has (several records, up to a buffer's
  // worth) in one recv, not each record's header and then its body in two; what was read
  // ahead stays in the session for the next read, which a connection makes before it waits
  // for epoll. Not during the handshake: measured, read-ahead there halved handshakes/s.
  Status handshake();
  Io read(std::span<char> into);
  Io write(std::span<const char> from);
  // Sends close_notify if it can without waiting; the socket's write side is the caller's.
  // Only for a graceful end: a close_notify tells the peer that what it got was all there is.
  void close_notify();

  bool resumed() const { return SSL_session_reused(ssl_.get()) == 1; }
  // The peer ended the session with close_notify (a kClosed without it may be a truncation).
  bool close_notify_received() const {
    return (SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN) != 0;
  }
  std::string_view version() const { return SSL_get_version(ssl_.get()); }
  std::string_view cipher() const { return SSL_get_cipher_name(ssl_.get()); }
  // The server name the client asked for ("": none).
  std::string_view server_name() const;
  // The application protocol ALPN chose ("h2", "http/1.1"; "": none).
  std::string_view alpn() const;
  // The client certificate's subject (RFC 2253) if it sent one and it verified; "" otherwise,
  // and for a subject longer than 1 KiB.
  std::string verified_subject() const;
  // Why the last call failed, in OpenSSL's words.
  const std::string& error() const { return error_; }
  // Why the peer's certificate was refused, in OpenSSL's words ("": it was not, or none was
  // checked).
  std::string_view verify_failure() const;

 private:
  Status classify(int ret);

  SslPtr ssl_;
  std::string error_;
  bool failed_ = false;  // a fatal error: no close_notify may follow
};

}  // namespace vigil::l7

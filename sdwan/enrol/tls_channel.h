// The enrolment channel between two sites: TLS 1.3 over TCP, each side proving its mesh
// identity (identity.h) with a certificate made from it, each side checking the other's key
// against the one it expects (the joining site: the key pinned in its token; a member: the
// identities in its config). One request line and one answer line of JSON, each bounded, the
// whole exchange within a time budget (non-blocking I/O polled against one deadline), so a peer
// that trickles bytes holds nothing past it.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "common/unique_fd.h"
#include "sdwan/enrol/identity.h"

namespace vigil::enrol {

// A socket address's IP as text ("198.51.100.4", "2001:db8::4"), "?" for another family.
std::string address_text(const sockaddr_storage& ss);

inline constexpr size_t kMaxEnrolLine = size_t{64} * 1024;

class TlsChannel {
 public:
  using Clock = std::chrono::steady_clock;

  // The server's side over an accepted connection; the client must present an Ed25519
  // identity (checked by the caller against what it expects: peer_identity()). The handshake
  // must be over within `handshake`, everything within `budget`.
  // `cancel`, when given and set (by another thread: the daemon stopping), fails whatever
  // waits within 100 ms.
  static Expected<TlsChannel> accept(UniqueFd fd, const Identity& me, Clock::duration handshake,
                                     Clock::duration budget,
                                     const std::atomic<bool>* cancel = nullptr);
  // Connects to `contact` ("host:port", the host an address, [IPv6] or a DNS name) and checks
  // that the server's identity is `pin`.
  static Expected<TlsChannel> connect(const std::string& contact, const Identity& me,
                                      const Key32& pin, Clock::duration budget,
                                      const std::atomic<bool>* cancel = nullptr);

  const Key32& peer_identity() const { return peer_identity_; }
  // The peer's address as "ip" (for the audit).
  const std::string& peer_address() const { return peer_address_; }
  // When the whole exchange must be over.
  Clock::time_point deadline() const { return deadline_; }

  Status send_line(std::string_view line);
  // The next line without its '\n'; an error past `max` bytes, at the deadline or at the end.
  Expected<std::string> read_line(size_t max = kMaxEnrolLine);

 private:
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  TlsChannel() = default;
  // The TLS handshake over fd_ as server or client, proving `me`; the peer's identity is
  // then peer_identity_. `who` names the peer in errors.
  Status handshake(const Identity& me, bool server, const std::string& who);
  // Waits until the socket can do what the SSL call that returned `ret` needs, within the
  // deadline; false when it cannot (then ssl_error() says why).
  bool wait_for(int ret);
  std::string ssl_error(std::string_view what, int ret) const;

  UniqueFd fd_;
  std::unique_ptr<SSL, SslFree> ssl_;
  Key32 peer_identity_{};
  std::string peer_address_;
  Clock::time_point deadline_{};
  std::string pending_;  // read past the last line
  bool timed_out_ = false;
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace vigil::enrol

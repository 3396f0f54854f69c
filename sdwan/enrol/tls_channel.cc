#include "sdwan/enrol/tls_channel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace vigil::enrol {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// Any certificate is let through the handshake: what counts is the key in it, which the
// caller compares with the one it expects once the handshake is done.
int accept_any_chain(int, X509_STORE_CTX*) {
  return 1;
}

std::unique_ptr<SSL_CTX, CtxFree> make_context(const Identity& me, bool server) {
  std::unique_ptr<SSL_CTX, CtxFree> ctx(
      SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_use_certificate(ctx.get(), me.certificate()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), me.key()) != 1) {
    return nullptr;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     accept_any_chain);
  // Identities are Ed25519 keys: nothing else is asked for, or proven, in the handshake.
  if (SSL_CTX_set1_sigalgs_list(ctx.get(), "ed25519") != 1) {
    return nullptr;
  }
  // No tickets, no resumption: one exchange per connection, each with both keys proven.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

std::string address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? address_text(ss) : "?";
}

// A TCP connection to host:port within `deadline`.
Expected<UniqueFd> connect_tcp(const std::string& contact, TlsChannel::Clock::time_point deadline,
                               const std::atomic<bool>* cancel) {
  const size_t colon = contact.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return fail(contact + " is not host:port");
  }
  std::string host = contact.substr(0, colon);
  const std::string port = contact.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  // Contacts the mesh passes around are addresses: no resolver that could block a stop.
  if (host.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos) {
    hints.ai_flags |= AI_NUMERICHOST;
  }
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail("cannot resolve " + contact + ": " + gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = std::strerror(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    // In slices of 100 ms, so that a stop (cancel) is seen at once.
    int ready = 0;
    while (ready == 0) {
      const auto left = duration_cast<milliseconds>(deadline - TlsChannel::Clock::now()).count();
      if (left <= 0 || (cancel != nullptr && cancel->load())) {
        break;
      }
      pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
      ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
      if (ready < 0 && errno == EINTR) {
        ready = 0;
      }
    }
    if (ready != 1) {
      last = "no answer in time";
      continue;
    }
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      last = std::strerror(error);
      continue;
    }
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  return fail("cannot connect to " + contact + ": " + last);
}

}  // namespace

std::string address_text(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
  }
  return text;
}

bool TlsChannel::wait_for(int ret) {
  const int kind = SSL_get_error(ssl_.get(), ret);
  short events = 0;
  if (kind == SSL_ERROR_WANT_READ) {
    events = POLLIN;
  } else if (kind == SSL_ERROR_WANT_WRITE) {
    events = POLLOUT;
  }
  if (events == 0) {
    return false;
  }
  while (true) {
    if (cancel_ != nullptr && cancel_->load()) {
      return false;
    }
    const auto left = duration_cast<milliseconds>(deadline_ - Clock::now()).count();
    if (left <= 0) {
      timed_out_ = true;
      return false;
    }
    pollfd p{.fd = fd_.get(), .events = events, .revents = 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (rc != 0 && !(rc < 0 && errno == EINTR)) {
      return true;  // ready, or an error the next call reports
    }
  }
}

std::string TlsChannel::ssl_error(std::string_view what, int ret) const {
  const int kind = SSL_get_error(ssl_.get(), ret);
  std::string why;
  if (timed_out_ || kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
    why = "timed out";
  } else if (kind == SSL_ERROR_SYSCALL) {
    why = errno != 0 ? std::strerror(errno) : "the connection was closed";
  } else if (kind == SSL_ERROR_ZERO_RETURN) {
    why = "the connection was closed";
  } else {
    char text[256];
    ERR_error_string_n(ERR_peek_last_error(), text, sizeof text);
    why = text;
  }
  ERR_clear_error();
  return std::string(what) + ": " + why;
}

Status TlsChannel::handshake(const Identity& me, bool server, const std::string& who) {
  auto ctx = make_context(me, server);
  ssl_.reset(ctx ? SSL_new(ctx.get()) : nullptr);
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
    return fail("cannot set up TLS");
  }
  errno = 0;
  const auto step = [&] { return server ? SSL_accept(ssl_.get()) : SSL_connect(ssl_.get()); };
  for (int rc = step(); rc != 1; rc = step()) {
    if (!wait_for(rc)) {
      return fail(ssl_error("TLS handshake with " + who + " failed", rc));
    }
  }
  auto key = ed25519_key_of(SSL_get0_peer_certificate(ssl_.get()));
  if (!key) {
    return fail(who + " presented no Ed25519 mesh identity");
  }
  peer_identity_ = *key;
  return Ok{};
}

Expected<TlsChannel> TlsChannel::accept(UniqueFd fd, const Identity& me, Clock::duration handshake,
                                        Clock::duration budget, const std::atomic<bool>* cancel) {
  TlsChannel ch;
  ch.cancel_ = cancel;
  ch.fd_ = std::move(fd);
  ::fcntl(ch.fd_.get(), F_SETFL, ::fcntl(ch.fd_.get(), F_GETFL) | O_NONBLOCK);
  const auto start = Clock::now();
  ch.deadline_ = start + std::min(handshake, budget);
  ch.peer_address_ = address_of(ch.fd_.get());
  if (Status done = ch.handshake(me, /*server=*/true, ch.peer_address_); !done) {
    return fail(done.error());
  }
  ch.deadline_ = start + budget;
  return ch;
}

Expected<TlsChannel> TlsChannel::connect(const std::string& contact, const Identity& me,
                                         const Key32& pin, Clock::duration budget,
                                         const std::atomic<bool>* cancel) {
  TlsChannel ch;
  ch.cancel_ = cancel;
  ch.deadline_ = Clock::now() + budget;
  auto fd = connect_tcp(contact, ch.deadline_, cancel);
  if (!fd) {
    return fail(fd.error());
  }
  ch.fd_ = std::move(*fd);
  ch.peer_address_ = address_of(ch.fd_.get());
  if (Status done = ch.handshake(me, /*server=*/false, contact); !done) {
    return fail(done.error());
  }
  if (CRYPTO_memcmp(ch.peer_identity_.data(), pin.data(), pin.size()) != 0) {
    return fail(contact +
                " is not the site expected: its identity is not the one pinned (a "
                "token for another mesh, or someone in the way)");
  }
  return ch;
}

Status TlsChannel::send_line(std::string_view line) {
  std::string out(line);
  out.push_back('\n');
  errno = 0;
  for (int rc = SSL_write(ssl_.get(), out.data(), static_cast<int>(out.size()));
       rc != static_cast<int>(out.size());
       rc = SSL_write(ssl_.get(), out.data(), static_cast<int>(out.size()))) {
    if (rc > 0 || !wait_for(rc)) {
      return fail(ssl_error("cannot send to " + peer_address_, rc));
    }
  }
  return Ok{};
}

Expected<std::string> TlsChannel::read_line(size_t max) {
  char buf[4096];
  while (true) {
    if (const size_t nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    if (pending_.size() > max) {
      return fail("a message from " + peer_address_ + " is longer than " + std::to_string(max) +
                  " bytes");
    }
    errno = 0;
    const int rc = SSL_read(ssl_.get(), buf, sizeof buf);
    if (rc <= 0) {
      if (wait_for(rc)) {
        continue;
      }
      return fail(timed_out_ ? "no whole message from " + peer_address_ + " in time"
                             : ssl_error("cannot read from " + peer_address_, rc));
    }
    pending_.append(buf, static_cast<size_t>(rc));
  }
}

}  // namespace vigil::enrol

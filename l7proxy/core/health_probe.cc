#include "l7proxy/core/health_probe.h"

#include <cerrno>

#include "l7proxy/core/upstream_connection.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/tls/client_tls.h"

namespace vigil::l7 {

HealthProbe::HealthProbe(Reactor& reactor, const HealthCheckSettings& check, Done done)
    : reactor_(reactor), check_(check), done_(std::move(done)) {}

HealthProbe::~HealthProbe() {
  reactor_.timers().cancel(*this);
  if (fd_.valid()) {
    reactor_.unwatch(fd_.get());
  }
}

std::unique_ptr<HealthProbe> HealthProbe::start(Reactor& reactor, const HealthCheckSettings& check,
                                                const TargetSpec& target, const ClientTls* tls,
                                                Done done) {
  std::unique_ptr<HealthProbe> p(new HealthProbe(reactor, check, std::move(done)));
  if (check.http) {
    // Host: as configured, else the name the target was given by (with its port), else its
    // address.
    std::string host = check.host;
    if (host.empty() && !target.name.empty()) {
      host = target.name + target.key.substr(target.key.rfind(':'));
    } else if (host.empty()) {
      host = target.key;
    }
    p->request_.append("GET ").append(check.path).append(" HTTP/1.1\r\nHost: ").append(host);
    p->request_.append(
        "\r\nUser-Agent: vigil-l7-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  }
  ConnectStart started = start_connect(target.address, target.address_length);
  p->fd_ = std::move(started.fd);
  if (!p->fd_.valid()) {
    p->finish({.failure = CheckFailure::kLocal});
    return p;
  }
  p->stream_ = SocketStream(p->fd_.get());
  if (tls != nullptr) {
    SslPtr ssl = tls->new_session(p->fd_.get(), target.name, target.address);
    if (!ssl) {
      p->finish({.failure = CheckFailure::kLocal});
      return p;
    }
    p->stream_ = SocketStream(p->fd_.get(), std::move(ssl));
  }
  reactor.timers().arm(*p, check.timeout, reactor.now());
  const int rc = started.rc;
  if (rc != 0 && started.error != EINPROGRESS) {
    const bool local = started.error == EADDRNOTAVAIL || started.error == ENOBUFS;
    p->finish({.failure = local ? CheckFailure::kLocal : CheckFailure::kConnect});
    return p;
  }
  if (!reactor.watch(p->fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, p.get())) {
    p->finish({.failure = CheckFailure::kLocal});
    return p;
  }
  if (rc == 0) {
    p->connected();
  }
  return p;
}

void HealthProbe::on_events(uint32_t events) {
  if (finished_) {
    return;
  }
  if (!connected_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
      return;
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      finish({.failure = CheckFailure::kConnect});
      return;
    }
    connected();
    return;
  }
  if (!handshaken_) {
    shake_hands();
    return;
  }
  exchange(events);
}

void HealthProbe::connected() {
  connected_ = true;
  shake_hands();
}

void HealthProbe::shake_hands() {
  const SocketStream::Status st = stream_.handshake();
  if (st == SocketStream::Status::kWantRead || st == SocketStream::Status::kWantWrite) {
    return;  // the socket's next event goes on with it
  }
  if (st != SocketStream::Status::kDone) {
    finish({.failure = CheckFailure::kTls});
    return;
  }
  handshaken_ = true;
  if (!check_.http) {
    finish({.passed = true});
    return;
  }
  // TLS may hold what it read during the handshake: both ways at once, whatever the events.
  exchange(EPOLLIN | EPOLLOUT);
}

void HealthProbe::exchange(uint32_t events) {
  // Through TLS a write may need the socket readable, or a read writable: both are tried on
  // any event, each stopping where it must wait.
  if (stream_.tls() || (events & EPOLLOUT) != 0) {
    write_request();
  }
  if (!finished_ &&
      (stream_.tls() || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)) {
    read_response();
  }
}

void HealthProbe::write_request() {
  while (sent_ < request_.size()) {
    const auto io = stream_.write(std::span<const char>(request_).subspan(sent_));
    if (io.status == SocketStream::Status::kDone) {
      sent_ += io.bytes;
    } else if (io.status == SocketStream::Status::kWantRead ||
               io.status == SocketStream::Status::kWantWrite) {
      return;
    } else {
      finish({.failure = CheckFailure::kClosed});
      return;
    }
  }
}

void HealthProbe::read_response() {
  char buf[4096];
  for (;;) {
    const auto io = stream_.read(buf);
    if (io.status == SocketStream::Status::kWantRead ||
        io.status == SocketStream::Status::kWantWrite) {
      return;
    }
    if (io.status != SocketStream::Status::kDone) {
      http1::ResponseHead head;
      if (response_.empty() && io.status == SocketStream::Status::kFailed && stream_.tls() &&
          !stream_.truncated()) {
        // Under TLS 1.3 a refused client certificate is said after the handshake.
        finish({.failure = CheckFailure::kTls});
      } else if (!response_.empty() &&
                 http1::parse_response_head(response_, {.max_head_bytes = kMaxHead}, head)
                         .outcome == http1::Parsed::kError) {
        finish({.failure = CheckFailure::kBadResponse});
      } else {
        finish({.failure = CheckFailure::kClosed});
      }
      return;
    }
    // Parsed once its end is in: a target sending a byte at a time (a TLS record each) costs
    // a search per read, not a parse of all it sent.
    const size_t from = response_.size() > 3 ? response_.size() - 3 : 0;
    response_.append(buf, io.bytes);
    if (response_.find("\r\n\r\n", from) == std::string::npos) {
      if (response_.size() >= kMaxHead) {
        finish({.failure = CheckFailure::kBadResponse});
        return;
      }
      continue;
    }
    http1::ResponseHead head;
    const auto parsed = http1::parse_response_head(
        response_, {.max_head_bytes = kMaxHead, .max_headers = 100}, head);
    if (parsed.outcome == http1::Parsed::kError) {
      finish({.failure = CheckFailure::kBadResponse});
      return;
    }
    if (parsed.outcome == http1::Parsed::kComplete) {
      if (check_.passes(head.status)) {
        finish({.passed = true, .status = head.status});
      } else {
        finish({.failure = CheckFailure::kStatus, .status = head.status});
      }
      return;
    }
    if (response_.size() >= kMaxHead) {
      finish({.failure = CheckFailure::kBadResponse});
      return;
    }
  }
}

void HealthProbe::on_timer() {
  if (!finished_) {
    finish({.failure = CheckFailure::kTimeout});
  }
}

void HealthProbe::finish(CheckResult result) {
  finished_ = true;
  reactor_.timers().cancel(*this);
  if (fd_.valid()) {
    reactor_.unwatch(fd_.get());
    stream_ = SocketStream(-1);  // the TLS session goes before its socket
    fd_.reset();
  }
  response_.clear();
  response_.shrink_to_fit();
  if (done_) {
    Done done = std::move(done_);
    done_ = nullptr;
    done(result);
  }
}

}  // namespace vigil::l7

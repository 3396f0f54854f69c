#include "l7proxy/core/client_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "l7proxy/core/chunk_output.h"
#include "l7proxy/core/http2_connection.h"
#include "l7proxy/http1/forward_head.h"
#include "l7proxy/http2/server_session.h"
#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = size_t{1} << 20;

bool would_block() {
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace

ClientConnection::ClientConnection(Worker& worker, UniqueFd fd, std::string peer_address,
                                   const ListenerInfo& listener)
    : worker_(worker),
      fd_(std::move(fd)),
      peer_(std::move(peer_address)),
      listener_(listener),
      in_(std::max<size_t>(worker.generation()->config->settings.limits.max_head_bytes, 65536)),
      out_(kHighWater),
      exchange_(worker, *this) {}

ClientConnection::~ClientConnection() {
  if (fd_.valid()) {
    worker_.reactor().unwatch(fd_.get());
  }
}

void ClientConnection::start() {
  if (listener_.tls) {
    SslPtr ssl = listener_.tls->new_session(fd_.get());
    if (!ssl) {
      bump(worker_.mutable_stats().tls_handshake_failures);
      close();
      return;
    }
    tls_ = std::make_unique<TlsStream>(std::move(ssl));
    phase_ = Phase::kHandshake;
  }
  if (!worker_.reactor().watch(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
    close();
    return;
  }
  arm(Wait::kHead, worker_.generation()->config->settings.header_timeout);
}

void ClientConnection::arm(Wait wait, Clock::duration after) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  wait_ = wait;
  worker_.reactor().timers().arm(*this, after, worker_.reactor().now());
}

void ClientConnection::on_events(uint32_t events) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  ready_.take(events);
  drive();
}

void ClientConnection::drive() {
  // Each step runs only while the connection is open: any of them may close it (a reset
  // read, a refusal), after which nothing of it may be touched but what close() left.
  bool progress = false;
  const auto step = [&](bool (ClientConnection::*fn)()) {
    if (phase_ != Phase::kClosed) {
      progress |= (this->*fn)();
    }
  };
  const auto step_exchange = [&](bool (UpstreamExchange::*fn)()) {
    if (phase_ != Phase::kClosed && exchange_.active()) {
      progress |= (exchange_.*fn)();
    }
  };
  while (phase_ != Phase::kClosed) {
    progress = false;
    switch (phase_) {
      case Phase::kHandshake:
        step(&ClientConnection::shake_hands);
        break;
      case Phase::kHead:
        step(&ClientConnection::read_client);
        step(&ClientConnection::take_head);
        break;
      case Phase::kExchange:
        step(&ClientConnection::pump_request);
        step(&ClientConnection::read_client);
        step(&ClientConnection::pump_request);
        step_exchange(&UpstreamExchange::read_upstream);
        step_exchange(&UpstreamExchange::pump_response);
        break;
      case Phase::kTunnel:
        step(&ClientConnection::read_client);
        step_exchange(&UpstreamExchange::read_upstream);
        step(&ClientConnection::pump_tunnel);
        break;
      case Phase::kLinger: {
        // Reads what the client still sends after a refusal, so closing does not reset the
        // refusal on its way; bounded in time and bytes.
        step(&ClientConnection::read_client);
        if (phase_ == Phase::kClosed) {
          return;
        }
        if (in_.size() > 0) {
          in_.consume(in_.size());
        }
        if (eof_ || lingered_ > kLingerBytes) {
          close();
        }
        break;
      }
      case Phase::kFlush:
      case Phase::kClosed:
        break;
    }
    if (phase_ == Phase::kClosed) {
      return;
    }
    step_exchange(&UpstreamExchange::flush_upstream);
    step(&ClientConnection::flush_client);
    if (!progress || phase_ == Phase::kClosed) {
      break;
    }
    if (wait_ == Wait::kTransfer) {
      arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
    }
    exchange_.touch();
  }
}

bool ClientConnection::shake_hands() {
  if (!ready_.readable && !ready_.writable) {
    return false;
  }
  switch (tls_->handshake()) {
    case TlsStream::Status::kDone: {
      WorkerStats& stats = worker_.mutable_stats();
      bump(stats.tls_handshakes);
      if (tls_->resumed()) {
        bump(stats.tls_resumed);
      }
      if (!listener_.tls->subject_header().empty()) {
        client_subject_ = tls_->verified_subject();
      }
      if (listener_.http2 && tls_->alpn() == "h2") {
        become_http2();
        return false;
      }
      phase_ = Phase::kHead;
      return true;
    }
    case TlsStream::Status::kWantRead:
      ready_.readable = false;
      return false;
    case TlsStream::Status::kWantWrite:
      ready_.writable = false;
      return false;
    case TlsStream::Status::kClosed:
    case TlsStream::Status::kFailed:
      // A refused protocol or certificate, a port scan, a client gone: counted, not logged
      // (anyone can cause one, as often as they like).
      bump(worker_.mutable_stats().tls_handshake_failures);
      close();
      return false;
  }
  return false;
}

bool ClientConnection::read_client() {
  if (!ready_.readable || eof_) {
    return false;
  }
  bool want = false;
  switch (phase_) {
    case Phase::kHead:
    case Phase::kLinger:
      want = true;
      break;
    case Phase::kExchange:
      want = !request_done_ && exchange_.body_room();
      break;
    case Phase::kTunnel:
      want = exchange_.active() && exchange_.tunnel_room();
      break;
    default:
      break;
  }
  if (!want) {
    return false;
  }
  const std::span<char> room = in_.room();
  if (room.empty()) {
    return false;
  }
  if (tls_) {
    const TlsStream::Io io = tls_->read(room);
    switch (io.status) {
      case TlsStream::Status::kDone:
        // No drained shortcut: a record's worth came, and more may wait in the socket.
        in_.commit(io.bytes);
        if (phase_ == Phase::kLinger) {
          lingered_ += io.bytes;
        }
        return true;
      case TlsStream::Status::kWantWrite:
        ready_.read_wants_write = true;
        [[fallthrough]];
      case TlsStream::Status::kWantRead:
        ready_.readable = false;
        return false;
      case TlsStream::Status::kClosed:
        eof_ = true;
        return true;
      case TlsStream::Status::kFailed:
        close();
        return false;
    }
  }
  const ssize_t n = ::recv(fd_.get(), room.data(), room.size(), 0);
  if (n > 0) {
    in_.commit(static_cast<size_t>(n));
    // Less than asked for: the socket is drained, and the edge-triggered epoll says when
    // more comes. Saves a recv that would only say EAGAIN. Not once the peer has closed:
    // that was said with the data (EPOLLRDHUP) and is not said again, so the end is read.
    if (static_cast<size_t>(n) < room.size() && !ready_.peer_closed) {
      ready_.readable = false;
    }
    if (phase_ == Phase::kLinger) {
      lingered_ += static_cast<size_t>(n);
    }
    return true;
  }
  if (n == 0) {
    eof_ = true;
    return true;
  }
  if (would_block()) {
    ready_.readable = false;
    return false;
  }
  if (errno == EINTR) {
    return true;
  }
  close();  // reset by the client
  return false;
}

bool ClientConnection::flush_client() {
  if (out_.empty()) {
    if (phase_ == Phase::kFlush) {
      shut_client_write();
      phase_ = Phase::kLinger;
      arm(Wait::kLinger, kLingerTime);
      return true;
    }
    return false;
  }
  bool progress = false;
  while (!out_.empty() && ready_.writable) {
    const auto data = out_.data();
    if (tls_) {
      const TlsStream::Io io = tls_->write(data);
      if (io.status == TlsStream::Status::kDone) {
        out_.consume(io.bytes);
        progress = true;
        continue;
      }
      if (io.status == TlsStream::Status::kWantRead) {
        ready_.write_wants_read = true;
        ready_.writable = false;
      } else if (io.status == TlsStream::Status::kWantWrite) {
        ready_.writable = false;
      } else {
        close();
        return false;
      }
      continue;
    }
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
      progress = true;
    } else if (n < 0 && would_block()) {
      ready_.writable = false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      close();
      return false;
    }
  }
  if (out_.empty()) {
    out_.release_if_empty();
    if (progress && phase_ == Phase::kHead && wait_ == Wait::kTransfer) {
      arm_for_next_head();  // the output is through: now the next head's wait
    }
  }
  return progress;
}

bool ClientConnection::take_head() {
  if (phase_ != Phase::kHead) {
    return false;
  }
  if (in_.empty()) {
    if (eof_) {
      finish_after_output();  // the client is done: what it is owed goes, then the close
    }
    return false;
  }
  if (out_.size() >= kHighWater) {
    return false;  // the responses to earlier requests must drain first
  }
  if (first_ && listener_.http2 && !tls_ && http2::could_be_preface(in_.view())) {
    if (in_.size() >= http2::kClientPreface.size()) {
      become_http2();
      return false;
    }
    if (!eof_) {
      return false;  // more of it to come
    }
  }
  const ProxySettings& settings = worker_.generation()->config->settings;
  head_request_ = false;
  if (wait_ == Wait::kIdle) {
    arm(Wait::kHead, settings.header_timeout);
  }
  const std::string_view data = in_.view();
  // The head is parsed once, when its end has arrived: parsing each time bytes came would
  // rescan the head again and again (quadratic in a slow client's pieces).
  const size_t end = data.find(kHeadEnd, scanned_ > 3 ? scanned_ - 3 : 0);
  if (end == std::string_view::npos) {
    scanned_ = data.size();
    if (data.size() >= settings.limits.max_head_bytes) {
      record_.begin(worker_.reactor().now());
      const auto r = http1::parse_request_head(data, settings.limits, head_);
      bump(worker_.mutable_stats().bad_requests);
      refuse(r.outcome == http1::Parsed::kError ? r.status : 431,
             r.outcome == http1::Parsed::kError ? r.error : "a request head past its limit");
      return true;
    }
    if (eof_) {
      finish_after_output();  // a head cut short by the client's end: nothing to answer
    }
    return false;
  }
  const size_t head_bytes = end + kHeadEnd.size();
  scanned_ = 0;
  first_ = false;
  record_.begin(worker_.reactor().now());
  const auto parsed = http1::parse_request_head(data.substr(0, head_bytes), settings.limits, head_);
  if (parsed.outcome != http1::Parsed::kComplete) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(parsed.status != 0 ? parsed.status : 400, parsed.error);
    return true;
  }
  bump(worker_.mutable_stats().requests);
  record_.method.assign(head_.method);
  client_minor_ = head_.minor_version;
  head_request_ = head_.method == "HEAD";
  const auto framing = http1::request_framing(head_, settings.max_body_bytes);
  if (!framing.ok) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(framing.status, framing.error);
    return true;
  }
  const RequestView view = RequestView::from(head_);
  record_.note_target(worker_, view, head_.target);
  if (view.refuse_status != 0) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(view.refuse_status, view.error);
    return true;
  }
  generation_ = worker_.generation();
  request_ = framing.framing;
  // A retired worker's connections end after their answer: retiring must come to an end.
  keep_alive_ = request_.keep_alive && !worker_.retired();
  const bool no_body = request_.body == http1::Body::kNone;
  const Admission admission =
      admit_request(*generation_, view, peer_, worker_.reactor().now(), worker_.mutable_stats());
  record_.route = admission.route;
  if (admission.status != 0) {
    in_.consume(head_bytes);
    refuse(admission.status, admission.why, no_body && keep_alive_, admission.retry_after);
    return true;
  }
  record_.request_id = worker_.next_request_id();
  write_upstream_head(view, admission);
  in_.consume(head_bytes);  // the head's views end here
  request_left_ = request_.length;
  request_chunks_ = http1::ChunkedDecoder({.max_body_bytes = settings.max_body_bytes});
  request_done_ = no_body;
  continue_sent_ = response_started_ = false;
  phase_ = Phase::kExchange;
  wait_ = Wait::kNone;  // the exchange's waits are its own
  worker_.reactor().timers().cancel(*this);
  exchange_.start({.generation = generation_,
                   .pool = admission.pool,
                   .hash = admission.hash,
                   .breaker = admission.breaker,
                   .method = record_.method,
                   .framing = request_});
  return true;
}

void ClientConnection::write_upstream_head(const RequestView& view, const Admission& admission) {
  const ProxyConfig& config = *generation_->config;
  const RouteAction& action = *admission.action;
  std::string& head = exchange_.request_head();
  head.clear();
  http1::write_upstream_request(head_, request_,
                                {.client_address = peer_,
                                 .scheme = tls_ ? "https" : "http",
                                 .authority = view.authority,
                                 .path = view.path,
                                 .query = view.query,
                                 .trust_forwarded = listener_.trust_forwarded,
                                 .request_id = record_.request_id,
                                 .add = action.add,
                                 .remove = action.remove,
                                 .reserved = config.reserved_fields,
                                 .subject_field = tls_ ? listener_.tls->subject_header() : "",
                                 .subject = client_subject_},
                                head);
}

bool ClientConnection::pump_request() {
  // Not before the exchange is connected, nor once the upstream stopped taking it.
  if (phase_ != Phase::kExchange || request_done_ || !exchange_.body_room()) {
    return false;
  }
  bool progress = false;
  if (request_.body == http1::Body::kLength) {
    const size_t n = std::min<uint64_t>(request_left_, in_.size());
    if (n > 0) {
      exchange_.send_body(in_.data().first(n));
      in_.consume(n);
      request_left_ -= n;
      progress = true;
    }
    if (request_left_ == 0) {
      request_done_ = progress = true;
    } else if (eof_ && in_.empty()) {
      close();  // the client went away mid-body
      return false;
    }
  } else if (request_.body == http1::Body::kChunked) {
    while (!in_.empty() && exchange_.body_room() && !request_done_) {
      const auto step = request_chunks_.next(in_.data());
      if (!step.error.empty()) {
        bump(worker_.mutable_stats().bad_requests);
        refuse(step.error.find("limit") != std::string_view::npos ? 413 : 400, step.error);
        return false;
      }
      exchange_.send_body(step.data);
      in_.consume(step.consumed);
      progress = true;
      request_done_ = step.done;
    }
    if (!request_done_ && eof_ && in_.empty()) {
      close();
      return false;
    }
  }
  if (request_done_) {
    exchange_.end_body();
  }
  return progress;
}
bool ClientConnection::pump_tunnel() {
  if (!exchange_.active()) {
    return false;
  }
  bool progress = false;
  if (!in_.empty() && exchange_.tunnel_room()) {
    exchange_.tunnel_send(in_.data());
    in_.consume(in_.size());
    progress = true;
  }
  ByteBuffer& upstream_in = exchange_.tunnel_from_upstream();
  if (!upstream_in.empty() && out_.size() < kHighWater) {
    out_.append(upstream_in.data());
    upstream_in.consume(upstream_in.size());
    progress = true;
  }
  // Each side's end is passed on once what it sent before has gone.
  if (eof_ && in_.empty() && exchange_.tunnel_sent() && !exchange_.upstream_shut()) {
    exchange_.shut_upstream_write();
    progress = true;
  }
  if (exchange_.upstream_ended() && exchange_.upstream_reset() && upstream_in.empty() &&
      out_.empty()) {
    close();  // reset, or cut short through TLS: the client must not take it as an end
    return false;
  }
  if (exchange_.upstream_ended() && upstream_in.empty() && out_.empty() && !client_shut_) {
    shut_client_write();
    client_shut_ = progress = true;
  }
  if (exchange_.upstream_shut() && client_shut_) {
    close();
    return false;
  }
  return progress;
}

void ClientConnection::on_exchange_connected() {
  if (request_.expect_continue && !request_done_ && !continue_sent_ && in_.empty()) {
    out_.append(kContinue);  // the upstream's own 100 is not passed on
    continue_sent_ = true;
  }
}

void ClientConnection::on_response_head(const http1::ResponseHead& head,
                                        const http1::Framing& framing) {
  const int status = head.status;
  record_.status = status;
  http1::Framing to_client = framing;
  chunk_to_client_ = false;
  if (status != 101 &&
      (framing.body == http1::Body::kChunked || framing.body == http1::Body::kUntilClose)) {
    if (client_minor_ == 1) {
      to_client.body = http1::Body::kChunked;
      chunk_to_client_ = true;
    } else {
      to_client.body = http1::Body::kUntilClose;  // never chunked toward HTTP/1.0
      keep_alive_ = false;
    }
  }
  if (!request_done_) {
    // Answered before the request's body is through (a 413, say): where a next request
    // would begin is not known, so this is the last; once the answer is out, what the client
    // still sends is read and dropped (the linger) before the connection closes.
    keep_alive_ = false;
  }
  scratch_.clear();
  http1::write_client_response(head, to_client, !keep_alive_, scratch_);
  if (keep_alive_ && client_minor_ == 0 && status != 101) {
    // HTTP/1.0 closes unless told otherwise (RFC 9112 9.3).
    scratch_.insert(scratch_.size() - 2, "Connection: keep-alive\r\n");
  }
  out_.append(scratch_);
  response_started_ = true;
  if (status == 101) {
    phase_ = Phase::kTunnel;
  }
}

void ClientConnection::on_response_body(std::span<const char> data) {
  if (chunk_to_client_) {
    append_chunk(out_, data);
  } else {
    out_.append(data);
  }
  record_.body_bytes += data.size();
}

void ClientConnection::on_response_end() {
  if (chunk_to_client_) {
    out_.append(kLastChunk);
  }
  log_request();
  exchange_.reset();
  generation_.reset();
  if (!request_done_) {
    keep_alive_ = false;  // where the next request would begin is unknown
  }
  if (!keep_alive_) {
    phase_ = Phase::kFlush;
    arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
    return;
  }
  start_next_request();
}

void ClientConnection::on_exchange_failed(int status, std::string_view why) {
  if (status == 0) {
    log::debug("exchange cut short", {{"reason", std::string(why)}, {"client", peer_}});
    close();  // the client must not take what it has for whole
    return;
  }
  refuse(status, why);
}

void ClientConnection::log_request() {
  // Before the exchange is reset: its names are the request's config's.
  record_.write(worker_, peer_, listener_.name, exchange_.upstream_name(), exchange_.target_key());
}

void ClientConnection::start_next_request() {
  phase_ = Phase::kHead;
  in_.set_cap(
      std::max<size_t>(worker_.generation()->config->settings.limits.max_head_bytes, 65536));
  response_started_ = false;
  scanned_ = 0;
  in_.release_if_empty();
  arm_for_next_head();
}

void ClientConnection::arm_for_next_head() {
  const ProxySettings& settings = worker_.generation()->config->settings;
  if (!out_.empty()) {
    // The last response is still going out: the client is not late with its next request
    // while it reads, so the wait is the transfer's (re-armed as bytes go), and the head's
    // clock starts once the output is through.
    arm(Wait::kTransfer, settings.idle_timeout);
  } else if (in_.empty()) {
    arm(Wait::kIdle, settings.idle_timeout);
  } else {
    arm(Wait::kHead, settings.header_timeout);
  }
}

void ClientConnection::refuse(int status, std::string_view why, bool keep_open,
                              uint32_t retry_after) {
  if (phase_ == Phase::kClosed) {
    return;
  }
  if (response_started_) {
    close();  // the client has part of a response already: ending it is all that is left
    return;
  }
  keep_open = keep_open && !worker_.retired();
  exchange_.abandon();
  record_.status = status;
  log_request();
  exchange_.reset();
  log::debug("request refused",
             {{"status", status}, {"reason", std::string(why)}, {"client", peer_}});
  bump(worker_.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
  const std::string_view reason = http1::reason_phrase(status);
  scratch_.clear();
  scratch_.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason);
  scratch_.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  scratch_.append(std::to_string(reason.size() + 1)).append("\r\n");
  if (retry_after > 0) {
    scratch_.append("Retry-After: ").append(std::to_string(retry_after)).append("\r\n");
  }
  if (!keep_open) {
    scratch_.append("Connection: close\r\n");
  } else if (client_minor_ == 0) {
    scratch_.append("Connection: keep-alive\r\n");
  }
  scratch_.append("\r\n");
  if (!head_request_) {  // a HEAD's answer has no body, whatever its Content-Length says
    scratch_.append(reason).append("\n");
  }
  out_.append(scratch_);
  response_started_ = true;
  generation_.reset();
  if (keep_open) {
    start_next_request();
    return;
  }
  phase_ = Phase::kFlush;
  arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
}

void ClientConnection::on_timer() {
  switch (wait_) {
    case Wait::kNone:
      return;
    case Wait::kIdle:
      // A graceful end between requests: over TLS, said with close_notify (a client's TLS
      // library keeps a session it can resume only after a proper end). Never on an abort,
      // where a close_notify would make a cut-short response look whole.
      if (tls_) {
        tls_->close_notify();
      }
      close();
      return;
    case Wait::kLinger:
      close();
      return;
    case Wait::kHead:
      bump(worker_.mutable_stats().timeouts);
      if (phase_ == Phase::kHandshake) {
        bump(worker_.mutable_stats().tls_handshake_failures);
        close();  // no HTTP yet to answer in
        return;
      }
      refuse(408, "the request head took too long");
      break;
    case Wait::kTransfer:
      bump(worker_.mutable_stats().timeouts);
      close();
      return;
  }
  drive();
}

void ClientConnection::shut_client_write() {
  if (tls_) {
    tls_->close_notify();
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

void ClientConnection::become_http2() {
  worker_.reactor().timers().cancel(*this);
  worker_.reactor().unwatch(fd_.get());
  phase_ = Phase::kClosed;  // no request was begun: nothing to log
  wait_ = Wait::kNone;
  auto* next = new Http2Connection(worker_, std::move(fd_), std::move(peer_), listener_,
                                   std::move(tls_), std::move(client_subject_));
  worker_.hand_over(this, next);
  next->start(in_.data());
  in_.consume(in_.size());
}

void ClientConnection::abort() {
  close();
}

void ClientConnection::finish_after_output() {
  if (out_.empty()) {
    close();
    return;
  }
  phase_ = Phase::kFlush;
  arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
}

void ClientConnection::close() {
  if (phase_ == Phase::kClosed) {
    return;
  }
  log_request();  // a request cut short is logged with what it got (status 0: no answer)
  phase_ = Phase::kClosed;
  wait_ = Wait::kNone;
  worker_.reactor().timers().cancel(*this);
  exchange_.reset();
  worker_.reactor().unwatch(fd_.get());
  fd_.reset();
  generation_.reset();
  in_.consume(in_.size());
  out_.consume(out_.size());
  worker_.closed(this);
}

}  // namespace vigil::l7

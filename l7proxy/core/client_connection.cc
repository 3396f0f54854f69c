#include "l7proxy/core/client_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>

#include "common/logging.h"
#include "l7proxy/http1/forward_head.h"
#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = size_t{1} << 20;

// A chunk of a chunked body, written straight into the output.
void append_chunk(ByteBuffer& out, std::span<const char> data) {
  char size[24];
  auto [end, ec] = std::to_chars(size, size + sizeof size - 2, data.size(), 16);
  *end++ = '\r';
  *end++ = '\n';
  out.append(std::span<const char>(size, static_cast<size_t>(end - size)));
  out.append(data);
  out.append(std::string_view("\r\n"));
}

std::string_view reason_of(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string_view field(std::span<const http1::Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (http1::iequals(h.name, name)) {
      return h.value;
    }
  }
  return {};
}

// A cookie's value from the Cookie field ("a=1; b=2").
std::string_view cookie(std::span<const http1::Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (!http1::iequals(h.name, "cookie")) {
      continue;
    }
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = http1::trim_ows(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return pair.substr(eq + 1);
      }
    }
  }
  return {};
}

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
      up_out_(kHighWater) {}

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
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    readable_ = true;
  }
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    peer_closed_ = true;  // read on to the end: its news comes once, with the last data
  }
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
    writable_ = true;
  }
  if (read_wants_write_ && writable_) {
    readable_ = true;
    read_wants_write_ = false;
  }
  if (write_wants_read_ && readable_) {
    writable_ = true;
    write_wants_read_ = false;
  }
  drive();
}

void ClientConnection::on_upstream_events(uint32_t events) {
  if (phase_ == Phase::kClosed || !upstream_) {
    return;
  }
  if (phase_ == Phase::kConnect && upstream_->tcp_connected) {
    shake_upstream_hands();
  } else if (phase_ == Phase::kConnect && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    if (const int error = upstream_->connect_error(); error != 0) {
      connect_failed(error, false);
    } else {
      upstream_->tcp_connected = true;
      shake_upstream_hands();
    }
  }
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
        step(&ClientConnection::read_upstream);
        step(&ClientConnection::pump_response);
        break;
      case Phase::kTunnel:
        step(&ClientConnection::read_client);
        step(&ClientConnection::read_upstream);
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
      case Phase::kConnect:
      case Phase::kFlush:
      case Phase::kClosed:
        break;
    }
    if (phase_ == Phase::kClosed) {
      return;
    }
    step(&ClientConnection::flush_upstream);
    step(&ClientConnection::flush_client);
    if (!progress || phase_ == Phase::kClosed) {
      break;
    }
    if (wait_ == Wait::kTransfer) {
      arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
    }
  }
}

bool ClientConnection::shake_hands() {
  if (!readable_ && !writable_) {
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
      phase_ = Phase::kHead;
      return true;
    }
    case TlsStream::Status::kWantRead:
      readable_ = false;
      return false;
    case TlsStream::Status::kWantWrite:
      writable_ = false;
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
  if (!readable_ || eof_) {
    return false;
  }
  bool want = false;
  switch (phase_) {
    case Phase::kHead:
    case Phase::kLinger:
      want = true;
      break;
    case Phase::kExchange:
      want = !request_done_ && !upstream_write_failed_ && up_out_.size() < kHighWater;
      break;
    case Phase::kTunnel:
      want = up_out_.size() < kHighWater;
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
        read_wants_write_ = true;
        [[fallthrough]];
      case TlsStream::Status::kWantRead:
        readable_ = false;
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
    if (static_cast<size_t>(n) < room.size() && !peer_closed_) {
      readable_ = false;
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
    readable_ = false;
    return false;
  }
  if (errno == EINTR) {
    return true;
  }
  close();  // reset by the client
  return false;
}

bool ClientConnection::read_upstream() {
  if (!upstream_ || !upstream_->readable || upstream_->eof) {
    return false;
  }
  if (response_started_ && out_.size() >= kHighWater) {
    return false;
  }
  UpstreamStream& stream = upstream_->stream();
  bool progress = false;
  // Through TLS a read takes a record: whether the socket is dry only a read that would
  // wait says (and a connection is pooled only once it is), so reads go on until then or
  // until the buffer is full.
  for (;;) {
    const std::span<char> room = upstream_->in.room();
    if (room.empty()) {
      return progress;
    }
    const UpstreamStream::Io io = stream.read(room);
    switch (io.status) {
      case UpstreamStream::Status::kDone:
        upstream_->in.commit(io.bytes);
        progress = true;
        if (stream.tls()) {
          continue;
        }
        if (io.bytes < room.size() && !upstream_->peer_closed) {
          upstream_->readable = false;  // drained, as above
        }
        return true;
      case UpstreamStream::Status::kWantWrite:
        upstream_->read_wants_write = true;
        [[fallthrough]];
      case UpstreamStream::Status::kWantRead:
        upstream_->readable = false;
        return progress;
      case UpstreamStream::Status::kClosed:
      case UpstreamStream::Status::kFailed:
        upstream_->eof = true;  // closed, or reset: either way nothing more comes
        upstream_failed_ = io.status == UpstreamStream::Status::kFailed;
        return true;
    }
  }
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
  while (!out_.empty() && writable_) {
    const auto data = out_.data();
    if (tls_) {
      const TlsStream::Io io = tls_->write(data);
      if (io.status == TlsStream::Status::kDone) {
        out_.consume(io.bytes);
        progress = true;
        continue;
      }
      if (io.status == TlsStream::Status::kWantRead) {
        write_wants_read_ = true;
        writable_ = false;
      } else if (io.status == TlsStream::Status::kWantWrite) {
        writable_ = false;
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
      writable_ = false;
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

bool ClientConnection::flush_upstream() {
  if (!upstream_ || !upstream_->connected || up_out_.empty()) {
    return false;
  }
  bool progress = false;
  while (!up_out_.empty() && upstream_->writable) {
    const UpstreamStream::Io io = upstream_->stream().write(up_out_.data());
    if (io.status == UpstreamStream::Status::kDone) {
      up_out_.consume(io.bytes);
      progress = true;
    } else if (io.status == UpstreamStream::Status::kWantWrite) {
      upstream_->writable = false;
    } else if (io.status == UpstreamStream::Status::kWantRead) {
      upstream_->write_wants_read = true;
      upstream_->writable = false;
    } else {
      // The upstream stopped taking the request (it answered early, say a 413, and closed):
      // nothing more goes up, and what it answered is still read until its end.
      upstream_write_failed_ = true;
      up_out_.consume(up_out_.size());
      return true;
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
      begin_log_entry();
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
  begin_log_entry();
  const auto parsed = http1::parse_request_head(data.substr(0, head_bytes), settings.limits, head_);
  if (parsed.outcome != http1::Parsed::kComplete) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(parsed.status != 0 ? parsed.status : 400, parsed.error);
    return true;
  }
  bump(worker_.mutable_stats().requests);
  method_.assign(head_.method);
  client_minor_ = head_.minor_version;
  head_request_ = head_.method == "HEAD";
  const auto framing = http1::request_framing(head_, settings.max_body_bytes);
  if (!framing.ok) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(framing.status, framing.error);
    return true;
  }
  const RequestView view = RequestView::from(head_);
  if (worker_.access_log() != nullptr) {
    log_host_.assign(view.authority);
    log_path_.assign(view.refuse_status != 0 ? std::string_view(head_.target) : view.path);
    if (!view.query.empty()) {
      log_path_.append("?").append(view.query);
    }
  }
  if (view.refuse_status != 0) {
    bump(worker_.mutable_stats().bad_requests);
    refuse(view.refuse_status, view.error);
    return true;
  }
  generation_ = worker_.generation();
  const ProxyConfig& config = *generation_->config;
  request_ = framing.framing;
  // A retired worker's connections end after their answer: retiring must come to an end.
  keep_alive_ = request_.keep_alive && !worker_.retired();
  const bool no_body = request_.body == http1::Body::kNone;
  const RouteSpec* route = config.routes.match(view);
  if (route == nullptr) {
    in_.consume(head_bytes);
    refuse(404, "no route matches", no_body && keep_alive_);
    return true;
  }
  const RouteAction& action = config.actions[route->id];
  route_name_ = route->name;
  if (RateLimiter* limiter = generation_->limiters[route->id].get()) {
    const std::string_view key =
        action.rate_key_header.empty() ? peer_ : field(view.headers, action.rate_key_header);
    const auto verdict = limiter->take(key, worker_.reactor().now());
    if (!verdict.allowed) {
      in_.consume(head_bytes);
      refuse(429, "rate limited", no_body && keep_alive_, verdict.retry_after_seconds);
      return true;
    }
  }
  pool_ = action.upstream;
  if (CircuitBreaker* breaker = generation_->pools[pool_].breaker.get()) {
    breaker_admission_ = breaker->admit(worker_.reactor().now());
    if (breaker_admission_ == CircuitBreaker::Admission::kRefused) {
      // Not the pool's traffic: counted for the route, not for the upstream.
      bump(worker_.mutable_stats().breaker_refusals);
      in_.consume(head_bytes);
      const auto open_for = breaker->settings().open_for;
      refuse(503, "the upstream's circuit breaker is open", no_body && keep_alive_,
             static_cast<uint32_t>(
                 std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(open_for).count())));
      return true;
    }
  }
  pooled_ = true;
  const UpstreamSpec& upstream = config.upstreams[pool_];
  switch (upstream.hash_on) {
    case HashOn::kSourceAddress:
      hash_ = std::hash<std::string_view>{}(peer_);
      break;
    case HashOn::kHeader:
      hash_ = std::hash<std::string_view>{}(field(view.headers, upstream.hash_name));
      break;
    case HashOn::kCookie:
      hash_ = std::hash<std::string_view>{}(cookie(view.headers, upstream.hash_name));
      break;
  }
  request_id_ = worker_.next_request_id();
  request_head_.clear();
  http1::write_upstream_request(head_, request_,
                                {.client_address = peer_,
                                 .scheme = tls_ ? "https" : "http",
                                 .authority = view.authority,
                                 .path = view.path,
                                 .query = view.query,
                                 .trust_forwarded = listener_.trust_forwarded,
                                 .request_id = request_id_,
                                 .add = action.add,
                                 .remove = action.remove,
                                 .reserved = config.reserved_fields,
                                 .subject_field = tls_ ? listener_.tls->subject_header() : "",
                                 .subject = client_subject_},
                                request_head_);
  in_.consume(head_bytes);  // the head's views end here
  request_left_ = request_.length;
  request_chunks_ = http1::ChunkedDecoder({.max_body_bytes = settings.max_body_bytes});
  request_done_ = no_body;
  body_sent_ = continue_sent_ = response_started_ = false;
  tries_ = 0;
  tried_.assign(upstream.targets.size(), false);
  pick_target();
  return true;
}

void ClientConnection::pick_target() {
  if (phase_ == Phase::kClosed) {
    return;
  }
  const ProxyConfig& config = *generation_->config;
  PoolRuntime& pool = generation_->pools[pool_];
  const auto now = worker_.reactor().now();
  // With active checks, a target whose checks fail is never tried; one not checked yet (a
  // target just configured) only when no target is known healthy.
  const auto* health = generation_->health && !(*generation_->health)[pool_].empty()
                           ? &(*generation_->health)[pool_]
                           : nullptr;
  const auto is = [&](size_t i, TargetHealth::State s) {
    return health == nullptr ? s == TargetHealth::State::kHealthy : (*health)[i]->now() == s;
  };
  bool any = false;
  for (size_t i = 0; i < pool.targets.size(); ++i) {
    pool.usable[i] = !tried_[i] && is(i, TargetHealth::State::kHealthy) &&
                     !pool.targets[i]->outlier.ejected(now);
    any |= pool.usable[i];
  }
  if (!any) {
    // Every healthy target left is ejected: they are tried anyway (Envoy's panic mode), since
    // refusing everything is worse than trying a target that may have recovered.
    for (size_t i = 0; i < pool.targets.size(); ++i) {
      pool.usable[i] = !tried_[i] && is(i, TargetHealth::State::kHealthy);
      any |= pool.usable[i];
    }
  }
  if (!any && health != nullptr) {
    for (size_t i = 0; i < pool.targets.size(); ++i) {
      pool.usable[i] = !tried_[i] && is(i, TargetHealth::State::kUnchecked);
      any |= pool.usable[i];
    }
  }
  const auto pick =
      any ? pool.balancer->pick({.hash = hash_, .now = now}, pool.usable) : std::nullopt;
  if (!pick) {
    breaker_hears(false);
    if (tries_ == 0 && health != nullptr) {
      bump(worker_.mutable_stats().no_healthy_target);
    }
    refuse(tries_ > 0 ? 502 : 503, tries_ == 0 && health != nullptr
                                       ? "no healthy upstream target"
                                       : "no upstream target left to try");
    return;
  }
  target_ = *pick;
  picked_ = true;
  const UpstreamSpec& spec = config.upstreams[pool_];
  TargetRuntime& target = *pool.targets[target_];
  while (!target.idle.empty()) {
    auto c = std::move(target.idle.back());
    target.idle.pop_back();
    if (now - c->opened() < spec.max_lifetime && !c->eof &&
        c->made_for(spec.client_tls.get(), spec.targets[target_].name)) {
      upstream_ = std::move(c);
      break;
    }
    retire_upstream(std::move(c));
  }
  if (upstream_) {
    reused_ = true;
    upstream_->set_owner(this);
    bump(worker_.mutable_stats().upstream_reused);
    connected();
    return;
  }
  connect_fresh();
}

void ClientConnection::connect_fresh() {
  const ProxyConfig& config = *generation_->config;
  const UpstreamSpec& spec = config.upstreams[pool_];
  const TargetSpec& target = spec.targets[target_];
  reused_ = false;
  bump(worker_.mutable_stats().upstream_connects);
  if (spec.tls && !spec.client_tls) {
    // Never in the clear in its place: a config whose contexts were not loaded is a bug.
    log::error("an upstream with tls has no TLS context", {{"upstream", spec.name}});
    refuse(503, "no TLS context for the upstream");
    return;
  }
  bool local_failure = false;
  auto c =
      UpstreamConnection::connect(worker_.reactor(), *generation_->pools[pool_].targets[target_],
                                  target, spec.client_tls, this, local_failure);
  if (!c && local_failure) {
    // This side's want (no descriptor, no memory), not the target's fault: no ejection.
    log::warn("cannot open an upstream connection", {{"error", c.error()}});
    refuse(503, "no local resources for an upstream connection");
    return;
  }
  if (!c) {
    connect_failed(errno, false);
    return;
  }
  upstream_ = std::move(*c);
  if (upstream_->connected) {
    connected();
    return;
  }
  // The connect and, through TLS, the handshake after it: both within connect_timeout.
  phase_ = Phase::kConnect;
  arm(Wait::kConnect, spec.connect_timeout);
  if (upstream_->tcp_connected) {
    shake_upstream_hands();
  }
}

void ClientConnection::shake_upstream_hands() {
  const UpstreamStream::Status st = upstream_->stream().handshake();
  if (st == UpstreamStream::Status::kDone) {
    connected();
    return;
  }
  if (st == UpstreamStream::Status::kWantRead || st == UpstreamStream::Status::kWantWrite) {
    return;  // the upstream's next event goes on with it
  }
  bump(worker_.mutable_stats().upstream_tls_failures);
  const TargetSpec& target = generation_->config->upstreams[pool_].targets[target_];
  log::debug("upstream TLS handshake failed",
             {{"target", target.key}, {"error", upstream_->stream().failure()}});
  connect_failed(0, false);
}

void ClientConnection::connected() {
  if (phase_ == Phase::kClosed) {
    return;
  }
  phase_ = Phase::kExchange;
  upstream_failed_ = upstream_write_failed_ = false;  // of an attempt before, if any
  upstream_->connected = true;
  upstream_->writable = true;
  upstream_->in.consume(upstream_->in.size());
  up_out_.append(request_head_);
  sent_at_ = worker_.reactor().now();
  generation_->pools[pool_].balancer->started(target_);
  ++generation_->pools[pool_].targets[target_]->active;
  in_flight_ = true;
  response_scanned_ = 0;
  if (request_.expect_continue && !request_done_ && !continue_sent_ && in_.empty()) {
    out_.append(kContinue);
    continue_sent_ = true;
  }
  arm_after_request();
}

void ClientConnection::arm_after_request() {
  const ProxyConfig& config = *generation_->config;
  if (request_done_) {
    arm(Wait::kResponse, config.upstreams[pool_].response_timeout);
  } else {
    arm(Wait::kTransfer, config.settings.idle_timeout);
  }
}

void ClientConnection::end_attempt(std::optional<Outcome> outcome) {
  if (!in_flight_) {
    return;
  }
  in_flight_ = false;
  PoolRuntime& pool = generation_->pools[pool_];
  TargetRuntime& target = *pool.targets[target_];
  const auto now = worker_.reactor().now();
  pool.balancer->finished(target_, now - sent_at_, now);
  --target.active;
  if (outcome && target.outlier.record(*outcome, now)) {
    bump(worker_.mutable_stats().ejections);
    log::warn("upstream target ejected",
              {{"upstream", generation_->config->upstreams[pool_].name},
               {"target", generation_->config->upstreams[pool_].targets[target_].key}});
  }
}

void ClientConnection::connect_failed(int error, bool timed_out) {
  bump(worker_.mutable_stats().upstream_connect_failures);
  const ProxyConfig& config = *generation_->config;
  const UpstreamSpec& spec = config.upstreams[pool_];
  TargetRuntime& target = *generation_->pools[pool_].targets[target_];
  if (target.outlier.record(Outcome::kConnectFailure, worker_.reactor().now())) {
    bump(worker_.mutable_stats().ejections);
    log::warn("upstream target ejected",
              {{"upstream", spec.name}, {"target", spec.targets[target_].key}});
  }
  if (error != 0 || timed_out) {  // 0: a TLS handshake's failure, said already
    log::debug("upstream connect failed",
               {{"target", spec.targets[target_].key},
                {"error", timed_out ? "timed out" : std::strerror(error)}});
  }
  if (upstream_) {
    retire_upstream(std::move(upstream_));
  }
  tried_[target_] = true;
  if (tries_ < spec.retries) {
    ++tries_;
    bump(worker_.mutable_stats().retries);
    pick_target();
    return;
  }
  if (timed_out) {
    bump(worker_.mutable_stats().timeouts);
  }
  breaker_hears(false);
  refuse(timed_out ? 504 : 502, "no upstream connection");
}

bool ClientConnection::retry_stale() {
  // Only a request that can safely run twice (RFC 9110 9.2.2): the server may have acted on
  // it before the connection went.
  static constexpr std::string_view kIdempotent[] = {"GET",   "HEAD", "OPTIONS",
                                                     "TRACE", "PUT",  "DELETE"};
  const bool idempotent =
      std::find(std::begin(kIdempotent), std::end(kIdempotent), method_) != std::end(kIdempotent);
  if (!reused_ || !idempotent || response_started_ || body_sent_ ||
      request_.body != http1::Body::kNone || !upstream_->in.empty()) {
    return false;
  }
  // A kept-alive connection the server had closed as this request went: nothing of it was
  // taken, so it goes again on a new connection (not a failure of the target).
  end_attempt(std::nullopt);
  retire_upstream(std::move(upstream_));
  up_out_.consume(up_out_.size());
  bump(worker_.mutable_stats().retries);
  connect_fresh();
  return true;
}

bool ClientConnection::pump_request() {
  if (phase_ != Phase::kExchange || request_done_ || upstream_write_failed_) {
    return false;
  }
  bool progress = false;
  if (request_.body == http1::Body::kLength) {
    const size_t n = std::min<uint64_t>(request_left_, in_.size());
    if (n > 0 && up_out_.size() < kHighWater) {
      up_out_.append(in_.data().first(n));
      in_.consume(n);
      request_left_ -= n;
      body_sent_ = progress = true;
    }
    if (request_left_ == 0) {
      request_done_ = progress = true;
    } else if (eof_ && in_.empty()) {
      close();  // the client went away mid-body
      return false;
    }
  } else if (request_.body == http1::Body::kChunked) {
    while (!in_.empty() && up_out_.size() < kHighWater && !request_done_) {
      const auto step = request_chunks_.next(in_.data());
      if (!step.error.empty()) {
        bump(worker_.mutable_stats().bad_requests);
        refuse(step.error.find("limit") != std::string_view::npos ? 413 : 400, step.error);
        return false;
      }
      if (!step.data.empty()) {
        append_chunk(up_out_, step.data);
        body_sent_ = true;
      }
      in_.consume(step.consumed);
      progress = true;
      if (step.done) {
        up_out_.append(std::string_view("0\r\n\r\n"));
        request_done_ = true;
      }
    }
    if (!request_done_ && eof_ && in_.empty()) {
      close();
      return false;
    }
  } else {
    request_done_ = progress = true;
  }
  if (request_done_ && !response_started_) {
    arm_after_request();
  }
  return progress;
}

bool ClientConnection::take_response_head() {
  ByteBuffer& in = upstream_->in;
  const ProxyConfig& config = *generation_->config;
  const std::string_view data = in.view();
  const size_t end = data.find(kHeadEnd, response_scanned_ > 3 ? response_scanned_ - 3 : 0);
  if (end == std::string_view::npos) {
    response_scanned_ = data.size();
    if (upstream_->eof) {
      if (data.empty() && retry_stale()) {
        return true;
      }
      if (data.empty() && upstream_failed_ && !reused_ && upstream_->stream().tls() &&
          !upstream_->stream().truncated()) {
        // Under TLS 1.3 a target refuses the client certificate (or its absence) after the
        // handshake, in the first record it sends: a TLS failure, told as one.
        bump(worker_.mutable_stats().upstream_tls_failures);
        log::debug("upstream TLS session refused",
                   {{"target", config.upstreams[pool_].targets[target_].key},
                    {"error", upstream_->stream().failure()}});
        end_attempt(Outcome::kConnectFailure);
        breaker_hears(false);
        refuse(502, "the upstream refused the TLS session");
        return true;
      }
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      refuse(502, "the upstream closed without answering");
      return true;
    }
    if (in.full()) {
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      refuse(502, "the upstream's response head is past its limit");
      return true;
    }
    return false;
  }
  const size_t head_bytes = end + kHeadEnd.size();
  response_scanned_ = 0;
  http1::Limits limits = config.settings.limits;
  limits.max_head_bytes = UpstreamConnection::kBufferCap;
  const auto parsed =
      http1::parse_response_head(data.substr(0, head_bytes), limits, response_head_);
  if (parsed.outcome != http1::Parsed::kComplete) {
    end_attempt(Outcome::kServerError);
    breaker_hears(false);
    refuse(502, parsed.error);
    return true;
  }
  const int status = response_head_.status;
  if (status < 200 && status != 101) {
    in.consume(head_bytes);  // 100 Continue (this proxy sends its own), 103: not forwarded
    return true;
  }
  const auto framing = http1::response_framing(response_head_, method_, request_.upgrade);
  if (!framing.ok) {
    end_attempt(Outcome::kServerError);
    breaker_hears(false);
    refuse(502, framing.error);
    return true;
  }
  response_ = framing.framing;
  status_ = status;
  end_attempt(status >= 500 ? Outcome::kServerError : Outcome::kSuccess);
  breaker_hears(status < 500);
  http1::Framing to_client = response_;
  chunk_to_client_ = false;
  if (status != 101 &&
      (response_.body == http1::Body::kChunked || response_.body == http1::Body::kUntilClose)) {
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
  http1::write_client_response(response_head_, to_client, !keep_alive_, scratch_);
  if (keep_alive_ && client_minor_ == 0 && status != 101) {
    // HTTP/1.0 closes unless told otherwise (RFC 9112 9.3).
    scratch_.insert(scratch_.size() - 2, "Connection: keep-alive\r\n");
  }
  out_.append(scratch_);
  in.consume(head_bytes);
  response_started_ = true;
  response_left_ = response_.length;
  response_chunks_ = http1::ChunkedDecoder();
  bump(worker_.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
  arm(Wait::kTransfer, config.settings.idle_timeout);
  if (status == 101) {
    phase_ = Phase::kTunnel;
  }
  return true;
}

bool ClientConnection::pump_response() {
  bool progress = false;
  // The head, then at once what of the body came with it: one send to the client for both.
  while (phase_ == Phase::kExchange && upstream_ && !response_started_) {
    if (!take_response_head()) {
      return progress;
    }
    progress = true;
  }
  if (phase_ != Phase::kExchange || !upstream_) {
    return progress;
  }
  ByteBuffer& in = upstream_->in;
  switch (response_.body) {
    case http1::Body::kNone:
      finish_exchange();
      return true;
    case http1::Body::kLength: {
      const size_t n = std::min<uint64_t>(response_left_, in.size());
      if (n > 0 && out_.size() < kHighWater) {
        out_.append(in.data().first(n));
        in.consume(n);
        response_left_ -= n;
        body_bytes_ += n;
        progress = true;
      }
      if (response_left_ == 0) {
        finish_exchange();
        return true;
      }
      if (in.empty() && upstream_->eof) {
        close();  // cut short: the client must not take it for whole
        return false;
      }
      return progress;
    }
    case http1::Body::kChunked:
      while (!in.empty() && out_.size() < kHighWater) {
        const auto step = response_chunks_.next(in.data());
        if (!step.error.empty()) {
          log::debug("malformed chunked response", {{"error", std::string(step.error)}});
          close();
          return false;
        }
        if (!step.data.empty()) {
          if (chunk_to_client_) {
            append_chunk(out_, step.data);
          } else {
            out_.append(step.data);
          }
          body_bytes_ += step.data.size();
        }
        in.consume(step.consumed);
        progress = true;
        if (step.done) {
          if (chunk_to_client_) {
            out_.append(std::string_view("0\r\n\r\n"));
          }
          finish_exchange();
          return true;
        }
      }
      if (in.empty() && upstream_->eof) {
        close();
        return false;
      }
      return progress;
    case http1::Body::kUntilClose:
      if (!in.empty() && out_.size() < kHighWater) {
        if (chunk_to_client_) {
          append_chunk(out_, in.data());
        } else {
          out_.append(in.data());
        }
        body_bytes_ += in.size();
        in.consume(in.size());
        progress = true;
      }
      if (in.empty() && upstream_->eof) {
        if (upstream_failed_) {
          close();  // reset: the body may be cut short
          return false;
        }
        if (chunk_to_client_) {
          out_.append(std::string_view("0\r\n\r\n"));
        }
        finish_exchange();
        return true;
      }
      return progress;
  }
  return progress;
}

bool ClientConnection::pump_tunnel() {
  if (!upstream_) {
    return false;
  }
  bool progress = false;
  if (!in_.empty() && up_out_.size() < kHighWater) {
    up_out_.append(in_.data());
    in_.consume(in_.size());
    progress = true;
  }
  ByteBuffer& upstream_in = upstream_->in;
  if (!upstream_in.empty() && out_.size() < kHighWater) {
    out_.append(upstream_in.data());
    upstream_in.consume(upstream_in.size());
    progress = true;
  }
  // Each side's end is passed on once what it sent before has gone.
  if (eof_ && in_.empty() && up_out_.empty() && !upstream_shut_) {
    upstream_->stream().shut_write();
    upstream_shut_ = progress = true;
  }
  if (upstream_->eof && upstream_failed_ && upstream_in.empty() && out_.empty()) {
    close();  // reset, or cut short through TLS: the client must not take it as an end
    return false;
  }
  if (upstream_->eof && upstream_in.empty() && out_.empty() && !client_shut_) {
    shut_client_write();
    client_shut_ = progress = true;
  }
  if (upstream_shut_ && client_shut_) {
    close();
    return false;
  }
  return progress;
}

void ClientConnection::begin_log_entry() {
  logged_ = false;
  started_at_ = worker_.reactor().now();
  status_ = 0;
  body_bytes_ = 0;
  route_name_ = {};
  pooled_ = false;
  picked_ = false;
  breaker_admission_ = CircuitBreaker::Admission::kRefused;
  method_.clear();
  request_id_.clear();
  log_host_.clear();
  log_path_.clear();
}

void ClientConnection::log_request() {
  if (logged_) {
    return;
  }
  logged_ = true;
  const bool sent_up = generation_ && pooled_;  // not a 429 or a 404: it went to a pool

  const UpstreamSpec* upstream = sent_up ? &generation_->config->upstreams[pool_] : nullptr;
  worker_.count_request(
      route_name_, upstream != nullptr ? std::string_view(upstream->name) : "", status_,
      std::chrono::duration<double>(worker_.reactor().now() - started_at_).count());
  AccessLog* log = worker_.access_log();
  if (log == nullptr) {
    return;
  }
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  log->add({.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall).count(),
            .client = peer_,
            .listener = listener_.name,
            .method = method_,
            .host = log_host_,
            .path = log_path_,
            .route = route_name_,
            .upstream = upstream != nullptr ? std::string_view(upstream->name) : "",
            .target = upstream != nullptr && picked_ && target_ < upstream->targets.size()
                          ? std::string_view(upstream->targets[target_].key)
                          : "",
            .request_id = request_id_,
            .status = status_,
            .bytes = body_bytes_,
            .duration_ms =
                std::chrono::duration<double, std::milli>(worker_.reactor().now() - started_at_)
                    .count()});
}

void ClientConnection::finish_exchange() {
  // Pooled only when nothing more can be owed on it: the request went whole, the response
  // ended where its framing said, and the socket was read dry (a read that filled the buffer
  // leaves it unknown whether more waits, and more would answer the next user's request).
  const bool reusable = response_.keep_alive && request_done_ && !upstream_->eof &&
                        !upstream_->readable && !upstream_->peer_closed &&
                        !upstream_write_failed_ && upstream_->in.empty() && up_out_.empty() &&
                        response_.body != http1::Body::kUntilClose;
  log_request();
  release_upstream(reusable);
  if (!request_done_) {
    keep_alive_ = false;  // where the next request would begin is unknown
  }
  generation_.reset();
  if (!keep_alive_) {
    phase_ = Phase::kFlush;
    arm(Wait::kTransfer, worker_.generation()->config->settings.idle_timeout);
    return;
  }
  start_next_request();
}

void ClientConnection::start_next_request() {
  phase_ = Phase::kHead;
  in_.set_cap(
      std::max<size_t>(worker_.generation()->config->settings.limits.max_head_bytes, 65536));
  response_started_ = false;
  scanned_ = 0;
  in_.release_if_empty();
  up_out_.consume(up_out_.size());
  up_out_.release_if_empty();
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

void ClientConnection::release_upstream(bool reusable) {
  if (!upstream_) {
    return;
  }
  end_attempt(std::nullopt);  // its outcome was told at the response's head
  const bool current = generation_ && generation_ == worker_.generation();
  const UpstreamSpec* spec = generation_ ? &generation_->config->upstreams[pool_] : nullptr;
  TargetRuntime& target = upstream_->target();
  // Only into a target the current config still has: an old generation's may be gone soon.
  if (reusable && current && target.idle.size() < spec->max_idle) {
    upstream_->set_owner(nullptr);
    upstream_->idle_since = worker_.reactor().now();
    upstream_->in.release_if_empty();
    target.idle.push_back(std::move(upstream_));
  } else {
    retire_upstream(std::move(upstream_));
  }
  up_out_.consume(up_out_.size());
  upstream_failed_ = upstream_write_failed_ = upstream_shut_ = client_shut_ = false;
}

void ClientConnection::retire_upstream(std::unique_ptr<UpstreamConnection> c) {
  c->set_owner(nullptr);
  c->retire();
  worker_.reactor().retire(std::move(c));
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
  if (upstream_) {
    end_attempt(std::nullopt);
    retire_upstream(std::move(upstream_));
  }
  status_ = status;
  log_request();
  log::debug("request refused",
             {{"status", status}, {"reason", std::string(why)}, {"client", peer_}});
  bump(worker_.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
  const std::string_view reason = reason_of(status);
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
    case Wait::kConnect:
      connect_failed(ETIMEDOUT, true);
      break;
    case Wait::kResponse:
      bump(worker_.mutable_stats().timeouts);
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      refuse(504, "the upstream took too long to answer");
      break;
    case Wait::kTransfer:
      bump(worker_.mutable_stats().timeouts);
      close();
      return;
  }
  drive();
}

void ClientConnection::breaker_hears(bool ok) {
  if (breaker_admission_ == CircuitBreaker::Admission::kRefused || !generation_) {
    return;  // no breaker, or it heard already
  }
  generation_->pools[pool_].breaker->record(
      ok, breaker_admission_ == CircuitBreaker::Admission::kProbe, worker_.reactor().now());
  breaker_admission_ = CircuitBreaker::Admission::kRefused;
}

void ClientConnection::shut_client_write() {
  if (tls_) {
    tls_->close_notify();
  }
  ::shutdown(fd_.get(), SHUT_WR);
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
  if (upstream_) {
    end_attempt(std::nullopt);
    retire_upstream(std::move(upstream_));
  }
  worker_.reactor().unwatch(fd_.get());
  fd_.reset();
  generation_.reset();
  in_.consume(in_.size());
  out_.consume(out_.size());
  up_out_.consume(up_out_.size());
  worker_.closed(this);
}

}  // namespace vigil::l7

#include "l7proxy/core/upstream_exchange.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "l7proxy/core/chunk_output.h"
#include "l7proxy/core/worker.h"

namespace vigil::l7 {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";

}  // namespace

UpstreamExchange::UpstreamExchange(Worker& worker, ExchangeClient& client)
    : worker_(worker), client_(client), up_out_(kHighWater) {}

UpstreamExchange::~UpstreamExchange() {
  // The client side resets it when it closes; nothing is retired from here, as this may run
  // while the reactor destroys what was retired.
  if (upstream_) {
    upstream_->set_owner(nullptr);
  }
  if (h2_ != nullptr) {
    h2_->forget(this, h2_stream_);
  }
}

void UpstreamExchange::arm(Wait wait, Clock::duration after) {
  wait_ = wait;
  worker_.reactor().timers().arm(*this, after, worker_.reactor().now());
}

void UpstreamExchange::touch() {
  if (wait_ == Wait::kTransfer && active()) {
    arm(Wait::kTransfer, generation_->config->settings.idle_timeout);
  }
}

void UpstreamExchange::start(ExchangeRequest request) {
  reset();
  generation_ = std::move(request.generation);
  pool_ = request.pool;
  hash_ = request.hash;
  breaker_admission_ = request.breaker;
  method_.assign(request.method);
  request_ = request.framing;
  body_high_water_ = std::min(request.body_high_water, kHighWater);
  request_done_ = request_.body == http1::Body::kNone;
  body_sent_ = response_started_ = false;
  tries_ = 0;
  tried_.assign(generation_->config->upstreams[pool_].targets.size(), false);
  state_ = State::kConnecting;
  http2_ = generation_->config->upstreams[pool_].http2;
  h2_attaches_ = 0;
  if (http2_ && request_.upgrade) {
    breaker_hears(false);
    fail(502, "the upstream speaks HTTP/2, which carries no Upgrade");
    return;
  }
  pick_target();
}

void UpstreamExchange::pick_target() {
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
    fail(tries_ > 0 ? 502 : 503, tries_ == 0 && health != nullptr
                                     ? "no healthy upstream target"
                                     : "no upstream target left to try");
    return;
  }
  target_ = *pick;
  picked_ = true;
  if (http2_) {
    attach_h2();
    return;
  }
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
    retire(std::move(c));
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

void UpstreamExchange::connect_fresh() {
  const ProxyConfig& config = *generation_->config;
  const UpstreamSpec& spec = config.upstreams[pool_];
  const TargetSpec& target = spec.targets[target_];
  reused_ = false;
  state_ = State::kConnecting;
  bump(worker_.mutable_stats().upstream_connects);
  if (spec.tls && !spec.client_tls) {
    // Never in the clear in its place: a config whose contexts were not loaded is a bug.
    log::error("an upstream with tls has no TLS context", {{"upstream", spec.name}});
    fail(503, "no TLS context for the upstream");
    return;
  }
  bool local_failure = false;
  auto c =
      UpstreamConnection::connect(worker_.reactor(), *generation_->pools[pool_].targets[target_],
                                  target, spec.client_tls, this, local_failure);
  if (!c && local_failure) {
    // This side's want (no descriptor, no memory), not the target's fault: no ejection.
    log::warn("cannot open an upstream connection", {{"error", c.error()}});
    fail(503, "no local resources for an upstream connection");
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
  arm(Wait::kConnect, spec.connect_timeout);
  if (upstream_->tcp_connected) {
    shake_hands();
  }
}

void UpstreamExchange::on_upstream_events(uint32_t events) {
  if (!upstream_ || state_ == State::kDone || state_ == State::kIdle) {
    return;
  }
  if (state_ == State::kConnecting && upstream_->tcp_connected) {
    shake_hands();
  } else if (state_ == State::kConnecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    if (const int error = upstream_->connect_error(); error != 0) {
      connect_failed(error, false);
    } else {
      upstream_->tcp_connected = true;
      shake_hands();
    }
  }
  client_.wake();
}

void UpstreamExchange::shake_hands() {
  const SocketStream::Status st = upstream_->stream().handshake();
  if (st == SocketStream::Status::kDone) {
    connected();
    return;
  }
  if (st == SocketStream::Status::kWantRead || st == SocketStream::Status::kWantWrite) {
    return;  // the upstream's next event goes on with it
  }
  bump(worker_.mutable_stats().upstream_tls_failures);
  const TargetSpec& target = generation_->config->upstreams[pool_].targets[target_];
  log::debug("upstream TLS handshake failed",
             {{"target", target.key}, {"error", upstream_->stream().failure()}});
  connect_failed(0, false);
}

void UpstreamExchange::connected() {
  upstream_->connected = true;
  upstream_->writable = true;
  upstream_->in.consume(upstream_->in.size());
  up_out_.append(request_head_);
  if (request_done_ && request_.body == http1::Body::kChunked) {
    up_out_.append(kLastChunk);  // the body ended, empty, before the connection was up
  }
  begin_exchange();
}

void UpstreamExchange::begin_exchange() {
  state_ = State::kExchange;
  upstream_failed_ = upstream_write_failed_ = false;  // of an attempt before, if any
  sent_at_ = worker_.reactor().now();
  generation_->pools[pool_].balancer->started(target_);
  ++generation_->pools[pool_].targets[target_]->active;
  in_flight_ = true;
  response_scanned_ = 0;
  arm_after_request();
  client_.on_exchange_connected();
}

void UpstreamExchange::arm_after_request() {
  const ProxyConfig& config = *generation_->config;
  if (request_done_) {
    arm(Wait::kResponse, config.upstreams[pool_].response_timeout);
  } else {
    arm(Wait::kTransfer, config.settings.idle_timeout);
  }
}

size_t UpstreamExchange::body_room() const {
  if (state_ != State::kExchange || request_done_ || upstream_write_failed_ ||
      up_out_.size() >= body_high_water_) {
    return 0;
  }
  return body_high_water_ - up_out_.size();
}

void UpstreamExchange::send_body(std::span<const char> data) {
  if (data.empty() || state_ != State::kExchange || upstream_write_failed_) {
    return;
  }
  if (request_.body == http1::Body::kChunked && !http2_) {
    append_chunk(up_out_, data);
  } else {
    up_out_.append(data);
  }
  body_sent_ = true;
}

void UpstreamExchange::end_body() {
  if (request_done_) {
    return;
  }
  request_done_ = true;
  if (state_ != State::kExchange) {
    return;  // not connected yet: connected() ends it; or over
  }
  if (request_.body == http1::Body::kChunked && !upstream_write_failed_ && !http2_) {
    up_out_.append(kLastChunk);
  }
  if (!response_started_) {
    arm_after_request();
  }
}

void UpstreamExchange::end_attempt(std::optional<Outcome> outcome) {
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

void UpstreamExchange::connect_failed(int error, bool timed_out, bool recorded) {
  const ProxyConfig& config = *generation_->config;
  const UpstreamSpec& spec = config.upstreams[pool_];
  TargetRuntime& target = *generation_->pools[pool_].targets[target_];
  if (!recorded) {
    bump(worker_.mutable_stats().upstream_connect_failures);
  }
  if (!recorded && target.outlier.record(Outcome::kConnectFailure, worker_.reactor().now())) {
    bump(worker_.mutable_stats().ejections);
    log::warn("upstream target ejected",
              {{"upstream", spec.name}, {"target", spec.targets[target_].key}});
  }
  if (!recorded && (error != 0 || timed_out)) {  // 0: a TLS handshake's failure, said already
    log::debug("upstream connect failed",
               {{"target", spec.targets[target_].key},
                {"error", timed_out ? "timed out" : std::strerror(error)}});
  }
  if (upstream_) {
    retire(std::move(upstream_));
  }
  detach_h2();
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
  fail(timed_out ? 504 : 502, "no upstream connection");
}

bool UpstreamExchange::idempotent() const {
  // A request that can safely run twice (RFC 9110 9.2.2).
  static constexpr std::string_view kIdempotent[] = {"GET",   "HEAD", "OPTIONS",
                                                     "TRACE", "PUT",  "DELETE"};
  return std::find(std::begin(kIdempotent), std::end(kIdempotent), method_) !=
         std::end(kIdempotent);
}

bool UpstreamExchange::retry_stale() {
  // Only a request that can safely run twice: the server may have acted on it before the
  // connection went.
  if (!reused_ || !idempotent() || response_started_ || body_sent_ ||
      request_.body != http1::Body::kNone || !upstream_->in.empty()) {
    return false;
  }
  // A kept-alive connection the server had closed as this request went: nothing of it was
  // taken, so it goes again on a new connection (not a failure of the target).
  end_attempt(std::nullopt);
  retire(std::move(upstream_));
  up_out_.consume(up_out_.size());
  bump(worker_.mutable_stats().retries);
  connect_fresh();
  return true;
}

bool UpstreamExchange::read_upstream() {
  if (!upstream_ || !upstream_->readable || upstream_->eof ||
      (state_ != State::kExchange && state_ != State::kTunnel)) {
    return false;
  }
  if (response_started_ && !client_.response_room()) {
    return false;
  }
  SocketStream& stream = upstream_->stream();
  bool progress = false;
  // Through TLS a read takes a record: whether the socket is dry only a read that would
  // wait says (and a connection is pooled only once it is), so reads go on until then or
  // until the buffer is full.
  for (;;) {
    const std::span<char> room = upstream_->in.room();
    if (room.empty()) {
      return progress;
    }
    const SocketStream::Io io = stream.read(room);
    switch (io.status) {
      case SocketStream::Status::kDone:
        upstream_->in.commit(io.bytes);
        progress = true;
        if (stream.tls()) {
          continue;
        }
        // Less than asked for: the socket is drained, and the edge-triggered epoll says when
        // more comes. Not once the peer has closed: that was said with the data and is not
        // said again, so the end is read.
        if (io.bytes < room.size() && !upstream_->peer_closed) {
          upstream_->readable = false;
        }
        return true;
      case SocketStream::Status::kWantWrite:
        upstream_->read_wants_write = true;
        [[fallthrough]];
      case SocketStream::Status::kWantRead:
        upstream_->readable = false;
        return progress;
      case SocketStream::Status::kClosed:
      case SocketStream::Status::kFailed:
        upstream_->eof = true;  // closed, or reset: either way nothing more comes
        upstream_failed_ = io.status == SocketStream::Status::kFailed;
        return true;
    }
  }
}

bool UpstreamExchange::flush_upstream() {
  if (http2_) {
    return flush_h2();
  }
  if (!upstream_ || !upstream_->connected || up_out_.empty()) {
    return false;
  }
  bool progress = false;
  while (!up_out_.empty() && upstream_->writable) {
    const SocketStream::Io io = upstream_->stream().write(up_out_.data());
    if (io.status == SocketStream::Status::kDone) {
      up_out_.consume(io.bytes);
      progress = true;
    } else if (io.status == SocketStream::Status::kWantWrite) {
      upstream_->writable = false;
    } else if (io.status == SocketStream::Status::kWantRead) {
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

bool UpstreamExchange::take_response_head() {
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
        fail(502, "the upstream refused the TLS session");
        return true;
      }
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      fail(502, "the upstream closed without answering");
      return true;
    }
    if (in.full()) {
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      fail(502, "the upstream's response head is past its limit");
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
    fail(502, parsed.error);
    return true;
  }
  const int status = response_head_.status;
  if (status < 200 && status != 101) {
    in.consume(head_bytes);  // 100 Continue (the client side sends its own), 103: not forwarded
    return true;
  }
  const auto framing = http1::response_framing(response_head_, method_, request_.upgrade);
  if (!framing.ok) {
    end_attempt(Outcome::kServerError);
    breaker_hears(false);
    fail(502, framing.error);
    return true;
  }
  response_ = framing.framing;
  end_attempt(status >= 500 ? Outcome::kServerError : Outcome::kSuccess);
  breaker_hears(status < 500);
  response_started_ = true;
  response_left_ = response_.length;
  response_chunks_ = http1::ChunkedDecoder();
  bump(worker_.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
  arm(Wait::kTransfer, config.settings.idle_timeout);
  if (status == 101) {
    state_ = State::kTunnel;
  }
  client_.on_response_head(response_head_, response_);  // its views end with the consume
  in.consume(head_bytes);
  return true;
}

bool UpstreamExchange::pump_response() {
  if (http2_) {
    return pump_h2_response();
  }
  bool progress = false;
  // The head, then at once what of the body came with it: one send to the client for both.
  while (state_ == State::kExchange && upstream_ && !response_started_) {
    if (!take_response_head()) {
      return progress;
    }
    progress = true;
  }
  if (state_ != State::kExchange || !upstream_) {
    return progress;
  }
  ByteBuffer& in = upstream_->in;
  switch (response_.body) {
    case http1::Body::kNone:
      finish();
      return true;
    case http1::Body::kLength: {
      const size_t n = std::min<uint64_t>(response_left_, in.size());
      if (n > 0 && client_.response_room()) {
        client_.on_response_body(in.data().first(n));
        in.consume(n);
        response_left_ -= n;
        progress = true;
      }
      if (response_left_ == 0) {
        finish();
        return true;
      }
      if (in.empty() && upstream_->eof) {
        fail(0, "the upstream's response was cut short");
        return false;
      }
      return progress;
    }
    case http1::Body::kChunked:
      while (!in.empty() && client_.response_room()) {
        const auto step = response_chunks_.next(in.data());
        if (!step.error.empty()) {
          log::debug("malformed chunked response", {{"error", std::string(step.error)}});
          fail(0, "a malformed chunked response");
          return false;
        }
        if (!step.data.empty()) {
          client_.on_response_body(step.data);
        }
        in.consume(step.consumed);
        progress = true;
        if (step.done) {
          finish();
          return true;
        }
      }
      if (in.empty() && upstream_->eof) {
        fail(0, "the upstream's response was cut short");
        return false;
      }
      return progress;
    case http1::Body::kUntilClose:
      if (!in.empty() && client_.response_room()) {
        client_.on_response_body(in.data());
        in.consume(in.size());
        progress = true;
      }
      if (in.empty() && upstream_->eof) {
        if (upstream_failed_) {
          fail(0, "the upstream reset the connection");  // the body may be cut short
          return false;
        }
        finish();
        return true;
      }
      return progress;
  }
  return progress;
}

ByteBuffer& UpstreamExchange::tunnel_from_upstream() {
  return upstream_->in;
}

void UpstreamExchange::shut_upstream_write() {
  if (upstream_ && !upstream_shut_) {
    upstream_->stream().shut_write();
    upstream_shut_ = true;
  }
}

bool UpstreamExchange::upstream_ended() const {
  return upstream_ && upstream_->eof;
}

void UpstreamExchange::finish() {
  // Pooled only when nothing more can be owed on it: the request went whole, the response
  // ended where its framing said, and the socket was read dry (a read that filled the buffer
  // leaves it unknown whether more waits, and more would answer the next user's request).
  const bool reusable = response_.keep_alive && request_done_ && !upstream_->eof &&
                        !upstream_->readable && !upstream_->peer_closed &&
                        !upstream_write_failed_ && upstream_->in.empty() && up_out_.empty() &&
                        response_.body != http1::Body::kUntilClose;
  end_attempt(std::nullopt);  // its outcome was told at the response's head
  const bool current = generation_ == worker_.generation();
  const UpstreamSpec& spec = generation_->config->upstreams[pool_];
  TargetRuntime& target = upstream_->target();
  // Only into a target the current config still has: an old generation's may be gone soon.
  if (reusable && current && target.idle.size() < spec.max_idle) {
    upstream_->set_owner(nullptr);
    upstream_->idle_since = worker_.reactor().now();
    upstream_->in.release_if_empty();
    target.idle.push_back(std::move(upstream_));
  } else {
    retire(std::move(upstream_));
  }
  state_ = State::kDone;
  wait_ = Wait::kNone;
  worker_.reactor().timers().cancel(*this);
  client_.on_response_end();
}

void UpstreamExchange::fail(int status, std::string_view why) {
  abandon();
  client_.on_exchange_failed(status, why);
}

void UpstreamExchange::abandon() {
  if (breaker_admission_ == CircuitBreaker::Admission::kProbe && generation_) {
    // A probe ended by the client side (gone, reset, refused it) told nothing of the upstream.
    generation_->pools[pool_].breaker->release_probe();
    breaker_admission_ = CircuitBreaker::Admission::kRefused;
  }
  wait_ = Wait::kNone;
  worker_.reactor().timers().cancel(*this);
  if (upstream_) {
    end_attempt(std::nullopt);
    retire(std::move(upstream_));
  }
  end_attempt(std::nullopt);  // once: it says nothing when no attempt is in flight
  detach_h2();
  up_out_.consume(up_out_.size());
  h2_in_.consume(h2_in_.size());
  h2_in_.release_if_empty();
  if (state_ != State::kIdle) {
    state_ = State::kDone;
  }
}

void UpstreamExchange::reset() {
  abandon();
  generation_.reset();
  state_ = State::kIdle;
  picked_ = false;
  breaker_admission_ = CircuitBreaker::Admission::kRefused;
  upstream_failed_ = upstream_write_failed_ = upstream_shut_ = false;
  h2_body_ended_ = h2_head_ready_ = h2_ended_ = h2_closed_ = h2_up_ = false;
  h2_connect_failed_ = false;
  h2_error_ = 0;
  up_out_.release_if_empty();
}

void UpstreamExchange::retire(std::unique_ptr<UpstreamConnection> c) {
  c->set_owner(nullptr);
  c->retire();
  worker_.reactor().retire(std::move(c));
}

void UpstreamExchange::breaker_hears(bool ok) {
  if (breaker_admission_ == CircuitBreaker::Admission::kRefused || !generation_) {
    return;  // no breaker, or it heard already
  }
  generation_->pools[pool_].breaker->record(
      ok, breaker_admission_ == CircuitBreaker::Admission::kProbe, worker_.reactor().now());
  breaker_admission_ = CircuitBreaker::Admission::kRefused;
}

void UpstreamExchange::on_timer() {
  switch (wait_) {
    case Wait::kNone:
      return;
    case Wait::kConnect:
      wait_ = Wait::kNone;
      connect_failed(ETIMEDOUT, true);
      break;
    case Wait::kResponse:
      bump(worker_.mutable_stats().timeouts);
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      fail(504, "the upstream took too long to answer");
      break;
    case Wait::kTransfer:
      bump(worker_.mutable_stats().timeouts);
      fail(0, "the exchange was idle too long");
      break;
  }
  client_.wake();
}

std::string_view UpstreamExchange::upstream_name() const {
  return generation_ ? std::string_view(generation_->config->upstreams[pool_].name) : "";
}

std::string_view UpstreamExchange::target_key() const {
  if (!generation_ || !picked_) {
    return "";
  }
  const UpstreamSpec& spec = generation_->config->upstreams[pool_];
  return target_ < spec.targets.size() ? std::string_view(spec.targets[target_].key) : "";
}

}  // namespace vigil::l7

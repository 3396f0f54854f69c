// UpstreamExchange's side of a pool that speaks HTTP/2: the request a stream on the worker's
// connection to the target (http2_upstream.h), its head and the response's turned between
// HTTP/1.1's terms (what the client side writes and reads) and HTTP/2's.
#include <algorithm>
#include <cerrno>

#include "common/logging.h"
#include "l7proxy/core/upstream_exchange.h"
#include "l7proxy/core/worker.h"

namespace vigil::l7 {

void UpstreamExchange::attach_h2() {
  const UpstreamSpec& spec = generation_->config->upstreams[pool_];
  const TargetSpec& target_spec = spec.targets[target_];
  TargetRuntime& target = *generation_->pools[pool_].targets[target_];
  detach_h2();
  state_ = State::kConnecting;
  h2_body_ended_ = h2_head_ready_ = h2_ended_ = h2_closed_ = h2_up_ = false;
  h2_connect_failed_ = false;
  h2_error_ = 0;
  if (h2_attaches_ > 3) {
    // Sessions that refuse streams with slots free (their memory): not one more connection.
    end_attempt(std::nullopt);
    breaker_hears(false);
    fail(503, "the upstream's HTTP/2 connections take no more streams");
    return;
  }
  Http2Upstream* c = nullptr;
  for (const auto& h : target.h2) {
    if (h->takes_stream(spec.client_tls.get(), target_spec.name)) {
      c = h.get();
      break;
    }
  }
  reused_ = c != nullptr;
  if (c != nullptr) {
    bump(worker_.mutable_stats().upstream_reused);
  } else {
    if (spec.tls && !spec.client_tls) {
      log::error("an upstream with tls has no TLS context", {{"upstream", spec.name}});
      fail(503, "no TLS context for the upstream");
      return;
    }
    bool local_failure = false;
    auto made = Http2Upstream::connect(worker_, target, target_spec, spec.client_tls,
                                       {.connect_timeout = spec.connect_timeout,
                                        .idle_timeout = spec.idle_timeout,
                                        .max_lifetime = spec.max_lifetime,
                                        .upstream = spec.name,
                                        .target = target_spec.key},
                                       local_failure);
    if (!made && local_failure) {
      log::warn("cannot open an upstream connection", {{"error", made.error()}});
      fail(503, "no local resources for an upstream connection");
      return;
    }
    if (!made) {
      connect_failed(errno, false);
      return;
    }
    c = *made;
  }
  h2_ = c;
  h2_usable_ = true;
  if (c->connected()) {
    open_h2_stream();
    return;
  }
  // The connection's own timer bounds the connect (and the handshake): one verdict for all
  // the requests waiting for it. (An earlier attempt's timer, a retry's, has no say.)
  wait_ = Wait::kNone;
  worker_.reactor().timers().cancel(*this);
  c->attach(this);
}

void UpstreamExchange::open_h2_stream() {
  h2_up_ = false;
  if (state_ != State::kConnecting || h2_ == nullptr || !h2_usable_) {
    return;
  }
  if (!h2_->connected()) {
    // It came up and ended in the same turn (the server closed at once): a failed connect.
    detach_h2();
    connect_failed(ECONNRESET, false);
    return;
  }
  http2::RequestHead head;
  if (!h2_request(head)) {
    log::error("a request head written for the upstream does not parse");
    breaker_hears(false);
    fail(502, "the request's head could not be sent over HTTP/2");
    return;
  }
  h2_stream_ = h2_->open(head, this);
  if (h2_stream_ == 0) {
    ++h2_attaches_;
    // No stream after all (the server's SETTINGS allow fewer than were assumed, its GOAWAY,
    // or a session out of memory, which then takes no more): another connection, or a new one.
    attach_h2();
    return;
  }
  h2_body_ended_ = head.end_stream;
  begin_exchange();
  h2_->flush();
}

bool UpstreamExchange::h2_request(http2::RequestHead& out) const {
  http1::RequestHead head;
  http1::Limits limits;
  limits.max_head_bytes = request_head_.size();
  limits.max_headers = 1024;
  limits.max_target_bytes = request_head_.size();
  if (http1::parse_request_head(request_head_, limits, head).outcome != http1::Parsed::kComplete) {
    return false;
  }
  out.method = head.method;
  out.scheme = generation_->config->upstreams[pool_].tls ? "https" : "http";
  out.path = head.target;
  out.authority.clear();
  out.headers.clear();
  for (const http1::Header& h : head.headers) {
    if (http1::iequals(h.name, "host")) {
      // RFC 9113 8.3.1: what Host said goes in :authority.
      if (out.authority.empty()) {
        out.authority = h.value;
      }
    } else {
      out.headers.push_back({std::string(h.name), std::string(h.value)});
    }
  }
  out.end_stream = request_done_ && up_out_.empty();
  return true;
}

void UpstreamExchange::on_h2_connect_failed(int error) {
  h2_usable_ = false;
  h2_connect_failed_ = true;
  h2_connect_error_ = error;
}

void UpstreamExchange::on_h2_response(http2::ResponseHead&& head) {
  h2_head_ = std::move(head);
  h2_head_ready_ = true;
}

void UpstreamExchange::on_h2_data(std::span<const char> data) {
  // Within the stream's window (the session's 256 KiB): the buffer holds it all.
  h2_in_.append(data);
}

void UpstreamExchange::on_h2_closed(uint32_t error) {
  h2_usable_ = false;
  h2_closed_ = true;
  h2_error_ = error;
}

void UpstreamExchange::on_h2_wake() {
  // Outside the connection's work: what it noted is acted on here.
  if (h2_connect_failed_) {
    h2_connect_failed_ = false;
    detach_h2();
    if (state_ == State::kConnecting) {
      // Counted against the target by the connection, once for all who waited.
      connect_failed(h2_connect_error_, h2_connect_error_ == ETIMEDOUT, true);
    }
  } else if (h2_up_) {
    open_h2_stream();
  }
  if (h2_closed_ && h2_ != nullptr) {
    // The stream is gone: what is left of its response is this exchange's own, and the
    // connection may end before the client takes it.
    Http2Upstream* c = h2_;
    h2_ = nullptr;
    c->forget(this, 0);
    h2_stream_ = 0;
  }
  client_.wake();
}

void UpstreamExchange::detach_h2() {
  if (h2_ != nullptr) {
    Http2Upstream* c = h2_;
    h2_ = nullptr;
    c->forget(this, h2_stream_);
  }
  h2_usable_ = false;
  h2_stream_ = 0;
}

bool UpstreamExchange::flush_h2() {
  if (h2_ == nullptr || !h2_usable_ || h2_stream_ == 0 || state_ != State::kExchange ||
      h2_body_ended_) {
    return false;
  }
  http2::ClientSession& session = h2_->session();
  const size_t n = session.queue_body(h2_stream_, up_out_.data(), request_done_);
  up_out_.consume(n);
  const bool ended = request_done_ && up_out_.empty();
  if (n == 0 && !ended) {
    return false;
  }
  h2_body_ended_ = ended;
  up_out_.release_if_empty();
  h2_->flush();  // a write that fails ends the connection at its next tick, not here
  return true;
}

bool UpstreamExchange::pump_h2_response() {
  if (state_ != State::kExchange) {
    return false;
  }
  bool progress = false;
  const ProxyConfig& config = *generation_->config;
  if (!response_started_) {
    if (!h2_head_ready_) {
      if (!h2_closed_) {
        return false;
      }
      const bool refused = h2_error_ == NGHTTP2_REFUSED_STREAM;
      const UpstreamSpec& spec = config.upstreams[pool_];
      // Not processed (RFC 9113 8.7): safe to send again, whatever the method. Cut with the
      // connection before any answer (it closed, or failed): as for a kept-alive HTTP/1.1
      // connection closed under a request, again only if the request may safely run twice.
      const bool cut = h2_error_ == NGHTTP2_CANCEL && reused_ && idempotent() &&
                       request_.body == http1::Body::kNone;
      if ((refused || cut) && !body_sent_ && tries_ < spec.retries) {
        end_attempt(std::nullopt);
        detach_h2();
        ++tries_;
        bump(worker_.mutable_stats().retries);
        up_out_.consume(up_out_.size());
        h2_attaches_ = 0;
        pick_target();
        return true;
      }
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      fail(502, refused ? "the upstream refused the stream" : "the upstream reset the stream");
      return true;
    }
    // The response's head in HTTP/1.1's terms, its views into h2_head_.
    response_head_ = {};
    response_head_.status = h2_head_.status;
    for (const http2::Header& h : h2_head_.headers) {
      response_head_.headers.push_back({h.name, h.value});
    }
    const auto framing = http1::response_framing(response_head_, method_, false);
    if (!framing.ok) {
      end_attempt(Outcome::kServerError);
      breaker_hears(false);
      fail(502, framing.error);
      return true;
    }
    response_ = framing.framing;
    const int status = response_head_.status;
    end_attempt(status >= 500 ? Outcome::kServerError : Outcome::kSuccess);
    breaker_hears(status < 500);
    response_started_ = true;
    h2_head_ready_ = false;
    bump(worker_.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
    arm(Wait::kTransfer, config.settings.idle_timeout);
    client_.on_response_head(response_head_, response_);
    progress = true;
  }
  if (!h2_in_.empty() && client_.response_room() && response_.body != http1::Body::kNone) {
    const size_t n = h2_in_.size();
    client_.on_response_body(h2_in_.data());
    h2_in_.consume(n);
    h2_in_.release_if_empty();
    if (h2_ != nullptr && h2_usable_) {
      h2_->session().consumed(h2_stream_, n);
      h2_->flush();  // the window reopened
    }
    progress = true;
  }
  if (response_.body == http1::Body::kNone && !h2_in_.empty()) {
    h2_in_.consume(h2_in_.size());  // nghttp2 refuses a body where none may be: not reached
  }
  if (h2_ended_ && h2_in_.empty()) {
    // Whole. A request still sending is told to stop (RFC 9113 8.1), without error.
    if (h2_ != nullptr) {
      Http2Upstream* c = h2_;
      h2_ = nullptr;
      c->forget(this, h2_stream_, NGHTTP2_NO_ERROR);
    }
    h2_usable_ = false;
    h2_stream_ = 0;
    end_attempt(std::nullopt);
    state_ = State::kDone;
    wait_ = Wait::kNone;
    worker_.reactor().timers().cancel(*this);
    client_.on_response_end();
    return true;
  }
  if (h2_closed_ && !h2_ended_) {
    fail(0, "the upstream reset the stream");
    return false;
  }
  return progress;
}

}  // namespace vigil::l7

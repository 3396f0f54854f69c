// One request's trip to an upstream pool over HTTP/1.1 or HTTP/2, whichever protocol the client
// speaks:
// a target picked by the pool's balancer (healthy, not ejected), a kept-alive connection
// reused or a new one made (through TLS on a TLS upstream), the request's head and body sent,
// the response's head read and checked and its body passed on decoded, each side moved only
// while the other has room (back-pressure: bounded memory whatever the body's size). A failed
// connect is retried on another target, a kept-alive connection the server had closed once on
// a new one; the balancer, the outlier detector and the circuit breaker hear how it went. The
// side that holds the client (an HTTP/1.1 connection, an HTTP/2 stream) is its ExchangeClient,
// told of the response and asked for room; it drives the exchange's steps from its own loop.
// The exchange has its own timer: the connect, the response's head, and idleness.
// To a pool that speaks HTTP/2 (UpstreamSpec::http2) the request is a stream on the worker's
// connection to the target (http2_upstream.h), its HTTP/1.1 head turned into HTTP/2's and the
// response's head back; body bytes, back-pressure, timeouts and verdicts go as over HTTP/1.1.
// A stream the server refused unprocessed (REFUSED_STREAM, or past its GOAWAY) is sent again.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/http2_upstream.h"
#include "l7proxy/core/timer_wheel.h"
#include "l7proxy/core/upstream_connection.h"
#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/http1/chunked.h"
#include "l7proxy/http1/framing.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/upstream/circuit_breaker.h"
#include "l7proxy/upstream/outlier_detector.h"

namespace vigil::l7 {

class Worker;

class ExchangeClient {
 public:
  // Connected: the request's head is on its way, its body may follow.
  virtual void on_exchange_connected() = 0;
  // A final response's head (or a 101: a tunnel from now on), its body's framing as the
  // upstream sent it.
  virtual void on_response_head(const http1::ResponseHead& head, const http1::Framing& framing) = 0;
  // Whether the client side takes more of the response now (no: the upstream is not read).
  virtual bool response_room() const = 0;
  virtual void on_response_body(std::span<const char> data) = 0;
  // The response is whole; the upstream connection went back to its pool or closed.
  virtual void on_response_end() = 0;
  // The exchange failed. `status` not 0: no response began, this is the answer owed (502,
  // 503, 504) and `why` says why. 0: what the client has or is sending is cut short (a
  // response ended early, a reset upstream, an idle timeout) and must not look whole.
  virtual void on_exchange_failed(int status, std::string_view why) = 0;
  // Something happened on the upstream side or the exchange's timer: drive the steps.
  virtual void wake() = 0;

 protected:
  ~ExchangeClient() = default;
};

// What a request takes to its pool.
struct ExchangeRequest {
  std::shared_ptr<Generation> generation;
  size_t pool = 0;
  uint64_t hash = 0;  // for a consistent balancer
  CircuitBreaker::Admission breaker = CircuitBreaker::Admission::kRefused;
  std::string_view method;  // copied
  // How the body goes up (none, Content-Length, chunked) and whether it asks for an upgrade.
  http1::Framing framing;
  // Request body held for the upstream before no more is taken (HTTP/2 streams hold less:
  // there are many on one connection).
  size_t body_high_water = size_t{256} * 1024;
};

class UpstreamExchange final : public UpstreamOwner, private Http2StreamOwner, private Timer {
 public:
  using Clock = std::chrono::steady_clock;
  // Request bytes held for the upstream before the client is no longer read.
  static constexpr size_t kHighWater = size_t{256} * 1024;

  UpstreamExchange(Worker& worker, ExchangeClient& client);
  ~UpstreamExchange() override;
  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  // The head to send, written by the caller before start() (HTTP/1.1, framed as
  // ExchangeRequest::framing says). Kept whole for a retry.
  std::string& request_head() { return request_head_; }
  // Picks a target and connects (or reuses a kept-alive connection). The client may hear of
  // a failure, or of the connection, before this returns.
  void start(ExchangeRequest request);

  // Whether a request is under way (started, not yet reset).
  bool active() const { return generation_ != nullptr; }
  // Bytes of body it takes now: 0 until connected, once the upstream stopped taking the
  // request, and at the high-water mark.
  size_t body_room() const;
  // A piece of the request's body, decoded (this side frames it as the upstream is told).
  void send_body(std::span<const char> data);
  // The request's body is through (at once for a request without one).
  void end_body();
  bool request_done() const { return request_done_; }
  // The upstream stopped taking the request (it answered early and closed).
  bool upstream_write_failed() const { return upstream_write_failed_; }
  bool response_started() const { return response_started_; }

  // The client side's loop calls these while the request is under way; each says whether it
  // moved anything.
  bool read_upstream();
  bool flush_upstream();
  bool pump_response();
  // Bytes moved: the idle timeout starts again.
  void touch();

  // After a 101: the bytes each way, and each side's end.
  ByteBuffer& tunnel_from_upstream();
  bool tunnel_room() const { return up_out_.size() < kHighWater; }
  void tunnel_send(std::span<const char> data) { up_out_.append(data); }
  bool tunnel_sent() const { return up_out_.empty(); }
  void shut_upstream_write();
  bool upstream_shut() const { return upstream_shut_; }
  bool upstream_ended() const;  // it sent its end (or reset: upstream_reset())
  bool upstream_reset() const { return upstream_failed_; }

  // For the access log and the request totals: while active.
  std::string_view upstream_name() const;
  std::string_view target_key() const;  // "": no target picked

  // Ends the attempt without a verdict on the target and closes the upstream connection;
  // keeps the generation (for the log) until reset().
  void abandon();
  // Ready for the next request: abandon(), and the generation let go.
  void reset();

 private:
  enum class State { kIdle, kConnecting, kExchange, kTunnel, kDone };
  enum class Wait { kNone, kConnect, kResponse, kTransfer };

  void on_upstream_events(uint32_t events) override;
  void on_timer() override;

  // HTTP/2 to the upstream.
  void on_h2_connected() override { h2_up_ = true; }
  void on_h2_connect_failed(int error) override;
  void on_h2_response(http2::ResponseHead&& head) override;
  void on_h2_data(std::span<const char> data) override;
  void on_h2_end() override { h2_ended_ = true; }
  void on_h2_closed(uint32_t error) override;
  void on_h2_wake() override;
  // A stream on a connection to the picked target that takes one, or on a new one.
  void attach_h2();
  // The connection is up: the stream opened (or another connection tried).
  void open_h2_stream();
  // The request's head as HTTP/2 has it (from request_head_). False: it did not parse.
  bool h2_request(http2::RequestHead& out) const;
  bool flush_h2();
  bool pump_h2_response();
  // Off the connection: its stream, if open, reset.
  void detach_h2();
  // The request is on its way: the balancer and the timer know.
  void begin_exchange();
  void arm(Wait wait, Clock::duration after);
  void pick_target();
  void connect_fresh();
  // TLS to the upstream: the handshake's next step (in the clear, done at once).
  void shake_hands();
  void connected();
  void arm_after_request();
  bool take_response_head();
  // The upstream's verdict on the request, once known (an answer: ok unless 5xx; no target
  // answering, a timeout, a broken response: not ok), for its pool's circuit breaker. The
  // proxy's own refusals and a client gone before the answer say nothing of the upstream.
  void breaker_hears(bool ok);
  // The attempt on the picked target is over: its balancer and outlier state hear of it
  // (nothing for the outlier state when the end was not the target's doing).
  void end_attempt(std::optional<Outcome> outcome);
  // `recorded`: counted against the target already (an HTTP/2 connection's failure, told to
  // each request that waited for it: counted once).
  void connect_failed(int error, bool timed_out, bool recorded = false);
  // A reused connection closed before answering: try once more on a new one, if safe.
  bool retry_stale();
  bool idempotent() const;
  void finish();
  void fail(int status, std::string_view why);
  void retire(std::unique_ptr<UpstreamConnection> c);

  Worker& worker_;
  ExchangeClient& client_;
  State state_ = State::kIdle;
  Wait wait_ = Wait::kNone;
  std::shared_ptr<Generation> generation_;
  size_t pool_ = 0;
  size_t target_ = 0;
  bool picked_ = false;
  uint64_t hash_ = 0;
  CircuitBreaker::Admission breaker_admission_ = CircuitBreaker::Admission::kRefused;
  std::string method_;
  http1::Framing request_;
  size_t body_high_water_ = kHighWater;
  uint32_t tries_ = 0;
  std::vector<bool> tried_;  // targets whose connect failed for this request
  std::unique_ptr<UpstreamConnection> upstream_;
  bool reused_ = false;
  bool in_flight_ = false;              // the balancer counts it
  bool upstream_failed_ = false;        // reset, not closed
  bool upstream_write_failed_ = false;  // it stopped taking the request
  bool upstream_shut_ = false;          // a tunnel's client end passed on
  bool request_done_ = false;
  bool body_sent_ = false;  // some of the body went up: no retry
  bool response_started_ = false;
  size_t response_scanned_ = 0;
  ByteBuffer up_out_;  // to the upstream
  std::string request_head_;
  http1::ResponseHead response_head_;
  http1::Framing response_;
  uint64_t response_left_ = 0;
  http1::ChunkedDecoder response_chunks_;
  Clock::time_point sent_at_{};

  bool http2_ = false;  // the pool speaks HTTP/2
  // The connection this exchange is registered with (told and woken by it) until it forgets
  // itself there (detach_h2); usable while the stream, or the wait for it, lasts (h2_usable_).
  Http2Upstream* h2_ = nullptr;
  bool h2_usable_ = false;
  int32_t h2_stream_ = 0;
  uint32_t h2_attaches_ = 0;  // sessions that refused this request's stream with slots free
  bool h2_up_ = false;        // the connection came up: open the stream when woken
  bool h2_connect_failed_ = false;
  int h2_connect_error_ = 0;
  bool h2_body_ended_ = false;  // END_STREAM queued for the request
  bool h2_head_ready_ = false;  // the final head came, not yet passed on
  bool h2_ended_ = false;       // the response's END_STREAM came
  bool h2_closed_ = false;      // the stream is gone
  uint32_t h2_error_ = 0;       // how it went
  http2::ResponseHead h2_head_;
  ByteBuffer h2_in_{size_t{256} * 1024};  // response body not passed on (within the window)
};

}  // namespace vigil::l7

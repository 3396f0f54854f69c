// A client's HTTP/1.1 connection and the exchange it has in flight: the request head read
// whole and checked (http1/), routed, sent to a target picked by the pool's balancer over a
// kept-alive or new upstream connection, the body streamed up as it arrives and the response
// streamed back, each side read only while the other side's output is below its high-water
// mark (back-pressure, bounded memory whatever the body's size). Requests on one connection
// are taken one at a time, in order (pipelined ones wait in the input buffer). After a 101 it
// becomes a tunnel that moves bytes both ways. Each phase has its timeout on the worker's
// timing wheel: the head, the connect, the response's head, and idleness. On a TLS listener the
// handshake comes first (within the head's timeout) and every read and write goes through the
// session.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/upstream_connection.h"
#include "l7proxy/core/worker.h"
#include "l7proxy/http1/chunked.h"
#include "l7proxy/http1/framing.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/tls/tls_stream.h"
#include "l7proxy/upstream/outlier_detector.h"

namespace vigil::l7 {

class ClientConnection final : public Pollable, public UpstreamOwner, private Timer {
 public:
  using Clock = std::chrono::steady_clock;
  // Output held for a side before the other side is no longer read.
  static constexpr size_t kHighWater = size_t{256} * 1024;

  ClientConnection(Worker& worker, UniqueFd fd, std::string peer_address,
                   const ListenerInfo& listener);
  ~ClientConnection() override;

  void start();
  void on_events(uint32_t events) override;
  void on_upstream_events(uint32_t events) override;
  // The worker is stopping: closed now, whatever it was doing.
  void abort();

 private:
  enum class Phase {
    kHandshake,  // TLS: before the first request
    kHead,       // reading a request's head (or idle between requests)
    kConnect,    // an upstream connect under way
    kExchange,   // the request going up, its response coming back
    kTunnel,     // after a 101: bytes both ways
    kFlush,      // a last response going out, then the write side shut
    kLinger,     // reading what the client still sends, so the response is not reset
    kClosed,
  };
  enum class Wait { kNone, kIdle, kHead, kConnect, kResponse, kTransfer, kLinger };

  void on_timer() override;
  void drive();
  bool shake_hands();
  bool read_client();
  bool read_upstream();
  bool flush_client();
  bool flush_upstream();
  bool take_head();
  bool pump_request();
  bool pump_response();
  bool take_response_head();
  bool pump_tunnel();

  void pick_target();
  void connect_fresh();
  // TLS to the upstream: the handshake's next step (in the clear, done at once).
  void shake_upstream_hands();
  void connected();
  void arm_after_request();
  // The client's write side ends: TLS's close_notify first, then the socket's FIN.
  void shut_client_write();
  // The upstream's verdict on the request, once known (an answer: ok unless 5xx; no target
  // answering, a timeout, a broken response: not ok), for its pool's circuit breaker. The
  // proxy's own refusals (a bad body, no local resources) and a client gone before the answer
  // say nothing of the upstream and are not told.
  void breaker_hears(bool ok);
  // The attempt on the picked target is over: its balancer and outlier state hear of it
  // (nothing for the outlier state when the end was not the target's doing).
  void end_attempt(std::optional<Outcome> outcome);
  void connect_failed(int error, bool timed_out);
  // A reused connection closed before answering: try once more on a new one, if safe.
  bool retry_stale();
  void finish_exchange();
  void release_upstream(bool reusable);
  void retire_upstream(std::unique_ptr<UpstreamConnection> c);
  void refuse(int status, std::string_view why, bool keep_open = false, uint32_t retry_after = 0);
  void close();
  // Done with the client: what it is still owed goes out, then the connection closes.
  void finish_after_output();
  void arm(Wait wait, Clock::duration after);
  void start_next_request();
  void arm_for_next_head();
  // The access log's line for the request in hand: begun when its head is read, written once
  // (answered, refused, or cut short), if the config has an access log.
  void begin_log_entry();
  void log_request();

  Worker& worker_;
  UniqueFd fd_;
  std::string peer_;
  ListenerInfo listener_;
  Phase phase_ = Phase::kHead;
  Wait wait_ = Wait::kNone;

  ByteBuffer in_;                   // from the client
  ByteBuffer out_;                  // to the client
  std::unique_ptr<TlsStream> tls_;  // null: plain HTTP
  // TLS: a read blocked until the socket is writable, or a write until it is readable (a
  // record OpenSSL had to send or read first).
  bool read_wants_write_ = false, write_wants_read_ = false;
  std::string client_subject_;  // the verified client certificate's, for subject_header
  bool readable_ = false, writable_ = true, eof_ = false;
  bool peer_closed_ = false;  // EPOLLRDHUP/HUP/ERR seen: read until the end, not a short read
  size_t scanned_ = 0;        // bytes of in_ searched for the head's end
  size_t lingered_ = 0;
  http1::RequestHead head_;  // kept for its fields' capacity, not its views
  http1::ResponseHead response_head_;
  std::string scratch_;

  // The exchange in flight.
  std::shared_ptr<Generation> generation_;
  size_t pool_ = 0;
  size_t target_ = 0;
  uint32_t tries_ = 0;
  std::vector<bool> tried_;  // targets whose connect failed for this request
  std::unique_ptr<UpstreamConnection> upstream_;
  bool reused_ = false;
  bool in_flight_ = false;              // the balancer counts it
  bool upstream_failed_ = false;        // reset, not closed
  bool upstream_write_failed_ = false;  // it stopped taking the request
  bool head_request_ = false;           // the request is a HEAD: refusals carry no body
  bool upstream_shut_ = false, client_shut_ = false;  // a tunnel's ends passed on
  uint64_t hash_ = 0;
  size_t response_scanned_ = 0;
  ByteBuffer up_out_;         // to the upstream
  std::string request_head_;  // as sent upstream, kept for a retry
  std::string method_;
  int client_minor_ = 1;
  http1::Framing request_;
  uint64_t request_left_ = 0;  // of a Content-Length body
  http1::ChunkedDecoder request_chunks_;
  bool request_done_ = false;
  bool body_sent_ = false;  // some of the request's body went up: no retry
  bool continue_sent_ = false;
  bool response_started_ = false;  // a head went to the client
  bool keep_alive_ = true;
  http1::Framing response_;
  uint64_t response_left_ = 0;
  http1::ChunkedDecoder response_chunks_;
  bool chunk_to_client_ = false;
  Clock::time_point sent_at_{};

  // What the access log says of the request in hand.
  bool logged_ = true;
  Clock::time_point started_at_{};
  int status_ = 0;
  uint64_t body_bytes_ = 0;
  std::string_view route_name_;  // in generation_'s config
  bool pooled_ = false;  // pool_ is the request's: routed, not refused by a limit or breaker
  bool picked_ = false;  // target_ is the request's
  // What its pool's circuit breaker said (kRefused also: none, or it has heard the outcome).
  CircuitBreaker::Admission breaker_admission_ = CircuitBreaker::Admission::kRefused;
  std::string request_id_;
  std::string log_host_;
  std::string log_path_;
};

}  // namespace vigil::l7

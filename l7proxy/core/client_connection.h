// A client's HTTP/1.1 connection: each request's head read whole and checked (http1/), routed
// and admitted (request_admission.h), then handed to an UpstreamExchange that takes it to a
// target of its pool; the request's body is passed on as it arrives and the response written
// back as it comes, each side read only while the other side's output is below its high-water
// mark (back-pressure, bounded memory whatever the body's size). Requests on one connection
// are taken one at a time, in order (pipelined ones wait in the input buffer). After a 101 it
// becomes a tunnel that moves bytes both ways. The client's waits are on its own timer (the
// head, idleness between requests, the last response's flush, the linger), the exchange's on
// the exchange's. On a TLS listener the handshake comes first (within the head's timeout) and
// every read and write goes through the session.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/readiness.h"
#include "l7proxy/core/request_admission.h"
#include "l7proxy/core/request_record.h"
#include "l7proxy/core/upstream_exchange.h"
#include "l7proxy/core/worker.h"
#include "l7proxy/http1/chunked.h"
#include "l7proxy/http1/framing.h"
#include "l7proxy/http1/message_head.h"
#include "l7proxy/routing/request_view.h"
#include "l7proxy/tls/tls_stream.h"

namespace vigil::l7 {

class ClientConnection final : public Downstream, private ExchangeClient, private Timer {
 public:
  using Clock = std::chrono::steady_clock;
  // Output held for a side before the other side is no longer read.
  static constexpr size_t kHighWater = UpstreamExchange::kHighWater;

  ClientConnection(Worker& worker, UniqueFd fd, std::string peer_address,
                   const ListenerInfo& listener);
  ~ClientConnection() override;

  void start();
  void on_events(uint32_t events) override;
  void abort() override;

 private:
  enum class Phase {
    kHandshake,  // TLS: before the first request
    kHead,       // reading a request's head (or idle between requests)
    kExchange,   // the request with its exchange: connecting, going up, its response back
    kTunnel,     // after a 101: bytes both ways
    kFlush,      // a last response going out, then the write side shut
    kLinger,     // reading what the client still sends, so the response is not reset
    kClosed,
  };
  enum class Wait { kNone, kIdle, kHead, kTransfer, kLinger };

  void on_timer() override;
  // ExchangeClient.
  void on_exchange_connected() override;
  void on_response_head(const http1::ResponseHead& head, const http1::Framing& framing) override;
  bool response_room() const override { return out_.size() < kHighWater; }
  void on_response_body(std::span<const char> data) override;
  void on_response_end() override;
  void on_exchange_failed(int status, std::string_view why) override;
  void wake() override { drive(); }

  void drive();
  bool shake_hands();
  // The client speaks HTTP/2 (ALPN chose h2, or it began with the h2c preface): the socket,
  // its TLS session and what was read go to an Http2Connection, which takes this one's place.
  void become_http2();
  bool read_client();
  bool flush_client();
  bool take_head();
  bool pump_request();
  bool pump_tunnel();
  // The head the exchange sends up, written from the one read (http1/forward_head.h).
  void write_upstream_head(const RequestView& view, const Admission& admission);
  // The client's write side ends: TLS's close_notify first, then the socket's FIN.
  void shut_client_write();
  void refuse(int status, std::string_view why, bool keep_open = false, uint32_t retry_after = 0);
  void close();
  // Done with the client: what it is still owed goes out, then the connection closes.
  void finish_after_output();
  void arm(Wait wait, Clock::duration after);
  void start_next_request();
  void arm_for_next_head();
  // The request in hand counted and logged (once: RequestRecord).
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
  Readiness ready_;
  std::string client_subject_;  // the verified client certificate's, for subject_header
  bool eof_ = false;
  size_t scanned_ = 0;  // bytes of in_ searched for the head's end
  bool first_ = true;   // no request read yet: h2c's preface may come instead
  size_t lingered_ = 0;
  http1::RequestHead head_;  // kept for its fields' capacity, not its views
  std::string scratch_;

  // The request in hand.
  std::shared_ptr<Generation> generation_;  // its config, from its head on
  UpstreamExchange exchange_;
  bool head_request_ = false;  // a HEAD: refusals carry no body
  bool client_shut_ = false;   // a tunnel's upstream end passed on
  int client_minor_ = 1;
  http1::Framing request_;
  uint64_t request_left_ = 0;  // of a Content-Length body
  http1::ChunkedDecoder request_chunks_;
  bool request_done_ = false;
  bool continue_sent_ = false;
  bool response_started_ = false;  // a head went to the client
  bool keep_alive_ = true;
  bool chunk_to_client_ = false;

  RequestRecord record_;
};

}  // namespace vigil::l7

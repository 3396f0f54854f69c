// A client's HTTP/2 connection: h2 chosen by ALPN on a TLS listener, or h2c with prior
// knowledge in the clear (an HTTP/1.1 connection that reads the preface hands its socket
// over). The frames go through http2::ServerSession, which bounds what a client may make the
// proxy hold; each request is checked, routed and admitted as an HTTP/1.1 one is and goes to
// its pool through an UpstreamExchange of its own (HTTP/1.1 to the upstream), the streams side
// by side on the one worker. A request's body is passed up only as the upstream takes it, and
// the stream's flow-control window reopens only as it goes (a client cannot make the proxy
// buffer more than its window); a response's body is read from the upstream only while the
// stream's output has room. Each stream is logged and counted as a request. With no stream
// open the connection ends after the idle timeout; on a retiring worker, or when the worker
// stops, a GOAWAY says no new stream is taken.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/unique_fd.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/readiness.h"
#include "l7proxy/core/socket_stream.h"
#include "l7proxy/core/timer_wheel.h"
#include "l7proxy/core/worker.h"
#include "l7proxy/http2/server_session.h"
#include "l7proxy/tls/tls_stream.h"

namespace vigil::l7 {

class Http2Connection final : public Downstream,
                              private http2::ServerSession::Handler,
                              private Timer {
 public:
  using Clock = std::chrono::steady_clock;
  // Frames held for the client before streams stop moving response bytes.
  static constexpr size_t kHighWater = size_t{256} * 1024;
  static constexpr auto kLingerTime = std::chrono::seconds(2);
  static constexpr size_t kLingerBytes = size_t{1} << 20;

  // `tls`: the session whose handshake chose h2 (null: h2c); `client_subject`: its verified
  // client certificate's subject, for the listener's subject field.
  Http2Connection(Worker& worker, UniqueFd fd, std::string peer_address,
                  const ListenerInfo& listener, std::unique_ptr<TlsStream> tls,
                  std::string client_subject);
  ~Http2Connection() override;

  // Watches the socket and takes `already_read` (what the HTTP/1.1 side read: the preface,
  // maybe more) as the connection's first bytes.
  void start(std::span<const char> already_read);
  void on_events(uint32_t events) override;
  void abort() override;

 private:
  class Stream;
  friend class Stream;
  enum class Wait { kNone, kIdle, kStall, kLinger };

  // ServerSession::Handler.
  void on_request(int32_t id, http2::RequestHead&& head) override;
  void on_request_data(int32_t id, std::span<const char> data) override;
  void on_request_end(int32_t id) override;
  void on_stream_close(int32_t id, uint32_t error) override;
  void on_timer() override;

  void drive();
  bool read_client();
  bool take_input();
  bool pump_streams();
  // The session framed queued response bytes: streams that waited for room pump again.
  void output_moved();
  bool flush_client();
  Stream* find(int32_t id);
  void close();
  // With no stream open, the idle timeout runs (from when the last one ended); with streams
  // whose exchanges run, they time themselves; with only answered streams whose bytes wait
  // for the client, the connection ends if none reach it for the idle timeout.
  void arm_timer();
  void arm(Wait wait, Clock::duration after);
  // Both sides are done: the write side shut, what still comes read and dropped, then the close.
  void linger();

  Worker& worker_;
  UniqueFd fd_;
  std::string peer_;
  ListenerInfo listener_;
  SocketStream io_;
  std::string client_subject_;
  ByteBuffer in_;
  ByteBuffer out_;
  http2::ServerSession session_;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> ended_;  // closed: freed once no call is under way
  std::vector<int32_t> marked_;                 // streams to pump in the next pass
  std::vector<int32_t> pumping_;                // those of this pass
  std::vector<int32_t> waiting_;  // streams that could not move for want of output room
  Readiness ready_;
  bool eof_ = false;
  bool closed_ = false;
  bool driving_ = false;
  bool going_away_ = false;  // GOAWAY sent: the connection ends with its last stream
  bool lingering_ = false;
  size_t lingered_ = 0;
  Wait wait_ = Wait::kNone;
  bool wrote_ = false;  // bytes reached the client in this drive
};

}  // namespace vigil::l7

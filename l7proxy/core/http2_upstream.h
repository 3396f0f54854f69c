// One HTTP/2 connection from a worker to an upstream target (h2c with prior knowledge in the
// clear, h2 agreed by ALPN through TLS), shared by the requests in flight to it: each is a
// stream, opened by its UpstreamExchange (the stream's owner) once the connection is up. The
// connection reads, writes and times itself: bytes from the server go to the client session
// (http2/client_session.h), whose events are kept by each owner; only once a read is through
// are the owners told to go on (wake), so no client code runs inside nghttp2's callbacks, and
// an owner that goes away meanwhile is simply not told.
//
// Kept in its target's list (TargetRuntime::h2) while it takes streams or has any open: a
// connect that fails, a read or write that fails, bytes that are not HTTP/2 or the server's
// GOAWAY with nothing left open end it, every owner told (a failed connect, or its stream
// closed). Idle for the pool's idle timeout it closes; past the pool's max lifetime it opens
// no more streams and closes once those open are done.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "l7proxy/core/byte_buffer.h"
#include "l7proxy/core/reactor.h"
#include "l7proxy/core/timer_wheel.h"
#include "l7proxy/core/upstream_connection.h"
#include "l7proxy/http2/client_session.h"

namespace vigil::l7 {

class Worker;
struct TargetRuntime;
struct TargetSpec;
class ClientTls;

// The request's side of a stream (an UpstreamExchange). Each call but wake() only keeps what
// it is told; wake() comes after, outside the connection's I/O.
class Http2StreamOwner {
 public:
  // The connection is up: the owner may open its stream now.
  virtual void on_h2_connected() = 0;
  // It never came up (`error`: the errno, 0 when a TLS or ALPN failure was said already, or
  // ETIMEDOUT). The owner is forgotten.
  virtual void on_h2_connect_failed(int error) = 0;
  virtual void on_h2_response(http2::ResponseHead&& head) = 0;
  virtual void on_h2_data(std::span<const char> data) = 0;
  virtual void on_h2_end() = 0;
  // The stream is gone (`error` 0: it ended well); the owner is forgotten.
  virtual void on_h2_closed(uint32_t error) = 0;
  virtual void on_h2_wake() = 0;

 protected:
  ~Http2StreamOwner() = default;
};

// A Pollable only so that the reactor may destroy it once the batch of events that ended it
// is through; its socket is its UpstreamConnection's.
class Http2Upstream final : public Pollable,
                            private UpstreamOwner,
                            private http2::ClientSession::Handler,
                            private Timer {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds idle_timeout{60000};
    std::chrono::milliseconds max_lifetime{300000};
  };

  // A connection to `spec` begun, added to `target`'s list. `local_failure`: this side's want
  // (descriptors, memory), not the target's fault.
  static Expected<Http2Upstream*> connect(Worker& worker, TargetRuntime& target,
                                          const TargetSpec& spec,
                                          std::shared_ptr<const ClientTls> tls,
                                          const Settings& settings, bool& local_failure);
  ~Http2Upstream() override;

  // Whether a request for a target named `name` under `tls` may use it, and it takes another
  // stream (counting the owners waiting for it to come up).
  bool takes_stream(const ClientTls* tls, const std::string& name) const;
  // Waits for the connection (told on_h2_connected or on_h2_connect_failed), or told it is up
  // before this returns.
  void attach(Http2StreamOwner* owner);
  // Opens the owner's stream (connected only): its id, or 0 when none may open now.
  int32_t open(const http2::RequestHead& head, Http2StreamOwner* owner);
  // The owner goes: its stream, if still open, is reset with `error`.
  void forget(Http2StreamOwner* owner, int32_t stream, uint32_t error = NGHTTP2_CANCEL);
  http2::ClientSession& session() { return session_; }
  // Frames the session has go out, as far as the socket takes them.
  void flush();

 private:
  Http2Upstream(Worker& worker, TargetRuntime& target, const Settings& settings);

  void on_events(uint32_t) override {}  // not watched itself
  void on_upstream_events(uint32_t events) override;
  void on_timer() override;
  void on_response(int32_t stream, http2::ResponseHead&& head) override;
  void on_response_data(int32_t stream, std::span<const char> data) override;
  void on_response_end(int32_t stream) override;
  void on_stream_close(int32_t stream, uint32_t error) override;
  void on_body_sent(int32_t stream) override;

  void shake_hands();
  void connected();
  // Reads what the socket has into the session. False: the connection is over.
  bool read();
  // Writes what the session has. False: the connection is over.
  bool write();
  // The owners told of something since the last wake, woken (those still here).
  void wake_owners();
  // The connection ends: owners waiting told it failed (`connect_error`), streams closed.
  void end(int connect_error, std::string_view why);
  // Idle (no stream, no one waiting): the idle timer runs; else the timer is off (unless a
  // wake-up is due soon).
  void rearm();
  // The owners noted during a flush (an owner's own call) are woken at the next tick, outside
  // any owner's call; so is the end of a connection whose write failed there.
  void wake_soon();
  Http2StreamOwner* owner_of(int32_t stream) const;

  Worker& worker_;
  TargetRuntime& target_;
  Settings settings_;
  std::unique_ptr<UpstreamConnection> conn_;
  http2::ClientSession session_;
  ByteBuffer out_;
  std::vector<Http2StreamOwner*> waiting_;
  std::unordered_map<int32_t, Http2StreamOwner*> owners_;
  // Streams closed during this read, their owners still to be woken.
  std::unordered_map<int32_t, Http2StreamOwner*> closed_;
  std::vector<int32_t> woken_;
  Clock::time_point opened_;
  bool connected_ = false;
  bool ended_ = false;
  bool in_io_ = false;   // inside read(): flush() waits until it is through
  bool soon_ = false;    // the timer is armed for wake_soon()
  bool broken_ = false;  // a flush's write failed: the connection ends at the next tick
};

}  // namespace vigil::l7

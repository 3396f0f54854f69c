// One HTTP/2 connection from a worker to an upstream target (h2c with prior knowledge in the
// clear, h2 agreed by ALPN through TLS), shared by the requests in flight to it: each is a
// stream, opened by its UpstreamExchange (the stream's owner) once the connection is up. The
// connection reads, writes and times itself: bytes from the server go to the client session
// (http2/client_session.h).
//
// Owners are registered (attach, or opening a stream) until they forget() themselves, and the
// connection only ever calls those registered. Its calls to them while it works (connected,
// connect failed, a response's head, data, end, a stream's close) only note what happened;
// once its work is through it wakes each owner so told (on_h2_wake), one at a time, skipping
// any an earlier wake-up made go. So no owner's code runs inside nghttp2's callbacks or the
// connection's own loops, and none is called after it is gone.
//
// Kept in its target's list (TargetRuntime::h2) while it takes streams or has any open: a
// connect that fails, a read or write that fails, bytes that are not HTTP/2 or both sides'
// GOAWAY with nothing left open end it, every owner told. It is destroyed only through the
// reactor, after the batch of events in which it ended (a target dropped by a commit hands its
// connections there too: orphan()). Idle for the pool's idle timeout it closes; past the
// pool's max lifetime it opens no more streams and closes once those open are done.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

// The request's side of a stream (an UpstreamExchange). Every call but on_h2_wake() only
// notes what it is told; on_h2_wake() comes after, outside the connection's work, and is where
// the owner acts on it.
class Http2StreamOwner {
 public:
  // The connection is up: the owner may open its stream (when woken).
  virtual void on_h2_connected() = 0;
  // It never came up (`error`: the errno, 0 for a TLS or ALPN failure, or ETIMEDOUT). The
  // connection counted it against the target, once however many requests waited.
  virtual void on_h2_connect_failed(int error) = 0;
  virtual void on_h2_response(http2::ResponseHead&& head) = 0;
  virtual void on_h2_data(std::span<const char> data) = 0;
  virtual void on_h2_end() = 0;
  // The stream is gone (`error` 0: it ended whole).
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
    std::string upstream;  // names for the log: the pool's, and the target's key
    std::string target;
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
  bool connected() const { return connected_ && !ended_; }
  // Registers the owner to wait for the connection (connecting only): told on_h2_connected or
  // on_h2_connect_failed, then woken.
  void attach(Http2StreamOwner* owner);
  // Opens the owner's stream (connected only; the owner is registered): its id, or 0 when none
  // may open now (a connection whose session refused a stream with slots free takes no more).
  int32_t open(const http2::RequestHead& head, Http2StreamOwner* owner);
  // The owner goes, or is done with this connection: no call reaches it after, and its
  // stream, if still open, is reset with `error`.
  void forget(Http2StreamOwner* owner, int32_t stream, uint32_t error = NGHTTP2_CANCEL);
  http2::ClientSession& session() { return session_; }
  // Frames the session has go out, as far as the socket takes them.
  void flush();
  // Its target is gone (a commit dropped it): the connection goes to the reactor to be
  // destroyed after this batch of events, and is not in any list any more.
  static void orphan(std::unique_ptr<Http2Upstream> c);

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
  void on_output_room() override;

  void shake_hands();
  void came_up();
  // Reads what the socket has into the session. False: the connection is over.
  bool read();
  // Writes what the session has. False: the connection is over.
  bool write();
  // The owners told of something since the last wake, woken (those still registered).
  void wake_owners();
  void note(Http2StreamOwner* owner) { woken_.push_back(owner); }
  // The connection ends: owners waiting told it failed (`connect_error`), streams closed, and
  // it leaves its target's list for the reactor's. The caller wakes the owners after.
  void end(int connect_error, std::string_view why);
  // It never came up: one failure of the target (counted, and heard by its outlier state).
  void count_connect_failure(std::string_view why);
  // Idle (no stream, no one waiting): the idle timer runs; else the timer is off (unless a
  // wake-up is due soon).
  void rearm();
  // The owners noted during a flush (an owner's own call) are woken at the next tick, outside
  // any owner's call; so is the end of a connection whose write failed there.
  void wake_soon();
  Http2StreamOwner* owner_of(int32_t stream) const;

  Worker& worker_;
  TargetRuntime* target_;  // null once orphaned
  Settings settings_;
  std::unique_ptr<UpstreamConnection> conn_;
  http2::ClientSession session_;
  ByteBuffer out_;
  std::unordered_set<Http2StreamOwner*> registered_;
  std::vector<Http2StreamOwner*> waiting_;                 // for the connection to come up
  std::unordered_map<int32_t, Http2StreamOwner*> owners_;  // by open stream
  std::vector<Http2StreamOwner*> woken_;                   // told something, to be woken
  Clock::time_point opened_;
  bool connected_ = false;
  bool ended_ = false;
  bool in_io_ = false;     // inside read(): flush() waits until it is through
  bool soon_ = false;      // the timer is armed for wake_soon()
  bool broken_ = false;    // a flush's write failed: the connection ends at the next tick
  bool refusing_ = false;  // the session refused a stream it had a slot for (its memory)
};

}  // namespace vigil::l7

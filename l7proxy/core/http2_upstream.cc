#include "l7proxy/core/http2_upstream.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "l7proxy/core/upstream_runtime.h"
#include "l7proxy/core/worker.h"

namespace vigil::l7 {
namespace {

// Frames queued for the socket before the session is asked for more.
constexpr size_t kOutHighWater = size_t{64} * 1024;

}  // namespace

Http2Upstream::Http2Upstream(Worker& worker, TargetRuntime& target, const Settings& settings)
    : worker_(worker),
      target_(&target),
      settings_(settings),
      session_(*this, http2::ClientLimits{}),
      out_(size_t{256} * 1024),
      opened_(worker.reactor().now()) {}

Expected<Http2Upstream*> Http2Upstream::connect(Worker& worker, TargetRuntime& target,
                                                const TargetSpec& spec,
                                                std::shared_ptr<const ClientTls> tls,
                                                const Settings& settings, bool& local_failure) {
  std::unique_ptr<Http2Upstream> self(new Http2Upstream(worker, target, settings));
  auto c = UpstreamConnection::connect(worker.reactor(), target, spec, std::move(tls),
                                       static_cast<UpstreamOwner*>(self.get()), local_failure);
  if (!c) {
    return fail(c.error());
  }
  self->conn_ = std::move(*c);
  bump(worker.mutable_stats().upstream_connects);
  worker.reactor().timers().arm(*self, settings.connect_timeout, worker.reactor().now());
  Http2Upstream* raw = self.get();
  target.h2.push_back(std::move(self));
  if (raw->conn_->tcp_connected) {
    raw->shake_hands();  // in the clear: up at once (a connect to a local address may be)
  }
  if (raw->ended_) {
    errno = 0;                                            // a TLS or ALPN failure, said already
    return fail("the connection failed as it was made");  // retired already
  }
  return raw;
}

Http2Upstream::~Http2Upstream() {
  if (conn_) {
    conn_->set_owner(nullptr);
    conn_->retire();
    worker_.reactor().retire(std::move(conn_));
  }
}

void Http2Upstream::orphan(std::unique_ptr<Http2Upstream> c) {
  c->target_ = nullptr;
  Reactor& reactor = c->worker_.reactor();
  reactor.retire(std::move(c));
}

bool Http2Upstream::takes_stream(const ClientTls* tls, const std::string& name) const {
  if (ended_ || broken_ || refusing_ || !conn_->made_for(tls, name) || session_.going_away() ||
      worker_.reactor().now() - opened_ >= settings_.max_lifetime) {
    return false;
  }
  return session_.stream_slots() > waiting_.size();
}

void Http2Upstream::attach(Http2StreamOwner* owner) {
  registered_.insert(owner);
  waiting_.push_back(owner);
  rearm();
}

int32_t Http2Upstream::open(const http2::RequestHead& head, Http2StreamOwner* owner) {
  if (!connected()) {
    return 0;
  }
  const bool had_slot = session_.stream_slots() > 0;
  const int32_t id = session_.submit(head);
  if (id == 0) {
    refusing_ = refusing_ || had_slot;
    return 0;
  }
  registered_.insert(owner);
  owners_[id] = owner;
  rearm();
  return id;
}

void Http2Upstream::forget(Http2StreamOwner* owner, int32_t stream, uint32_t error) {
  registered_.erase(owner);
  std::erase(waiting_, owner);
  std::erase(woken_, owner);
  if (auto it = owners_.find(stream); it != owners_.end() && it->second == owner) {
    owners_.erase(it);
    session_.reset(stream, error);
    flush();
  }
  rearm();
}

Http2StreamOwner* Http2Upstream::owner_of(int32_t stream) const {
  auto it = owners_.find(stream);
  return it == owners_.end() ? nullptr : it->second;
}

void Http2Upstream::on_upstream_events(uint32_t events) {
  if (ended_) {
    return;
  }
  if (!connected_) {
    if (!conn_->tcp_connected) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
        return;
      }
      if (const int error = conn_->connect_error(); error != 0) {
        count_connect_failure(std::strerror(error));
        end(error, std::strerror(error));
        wake_owners();
        return;
      }
      conn_->tcp_connected = true;
    }
    shake_hands();
    wake_owners();
    return;
  }
  in_io_ = true;
  const bool ok = read() && write();
  in_io_ = false;
  if (!ok) {
    end(0, session_.error().empty() ? "the upstream closed the connection" : session_.error());
  } else if (session_.finished()) {
    end(0, "");  // both sides said GOAWAY and nothing is open
  }
  // Owners write what they have from their wake-ups through flush().
  wake_owners();
}

void Http2Upstream::shake_hands() {
  const SocketStream::Status st = conn_->stream().handshake();
  if (st == SocketStream::Status::kWantRead || st == SocketStream::Status::kWantWrite) {
    return;
  }
  if (st != SocketStream::Status::kDone) {
    bump(worker_.mutable_stats().upstream_tls_failures);
    log::debug("upstream TLS handshake failed",
               {{"target", settings_.target}, {"error", conn_->stream().failure()}});
    count_connect_failure("");
    end(0, "TLS handshake");
    return;
  }
  if (TlsStream* tls = conn_->stream().tls_session(); tls != nullptr && tls->alpn() != "h2") {
    // The pool speaks HTTP/2: a server that did not choose h2 would read its frames as
    // HTTP/1.1.
    bump(worker_.mutable_stats().upstream_tls_failures);
    log::warn("upstream did not agree to HTTP/2 by ALPN",
              {{"target", settings_.target},
               {"alpn", std::string(tls->alpn().empty() ? "(none)" : tls->alpn())}});
    count_connect_failure("");
    end(0, "ALPN");
    return;
  }
  came_up();
}

void Http2Upstream::came_up() {
  connected_ = true;
  conn_->connected = true;
  conn_->writable = true;
  worker_.reactor().timers().cancel(*this);
  in_io_ = true;
  const bool ok = write() && read();  // the preface out; whatever came with the handshake in
  in_io_ = false;
  if (!ok) {
    // Closed as it came up (or a TLS 1.3 server refusing this side's certificate in its
    // first record): a failed connect for those waiting, counted once.
    const std::string why =
        session_.error().empty() ? "the upstream closed the connection" : session_.error();
    count_connect_failure(why);
    end(ECONNRESET, why);
    return;  // the caller wakes the owners
  }
  // Each owner waiting opens its stream when woken.
  for (Http2StreamOwner* owner : waiting_) {
    owner->on_h2_connected();
    note(owner);
  }
  waiting_.clear();
  rearm();
}

void Http2Upstream::count_connect_failure(std::string_view why) {
  bump(worker_.mutable_stats().upstream_connect_failures);
  if (!why.empty()) {
    log::debug("upstream connect failed",
               {{"target", settings_.target}, {"error", std::string(why)}});
  }
  if (target_ != nullptr &&
      target_->outlier.record(Outcome::kConnectFailure, worker_.reactor().now())) {
    bump(worker_.mutable_stats().ejections);
    log::warn("upstream target ejected",
              {{"upstream", settings_.upstream}, {"target", settings_.target}});
  }
}

bool Http2Upstream::read() {
  while (conn_->readable && !conn_->eof) {
    const std::span<char> room = conn_->in.room();
    const SocketStream::Io io = conn_->stream().read(room);
    switch (io.status) {
      case SocketStream::Status::kDone:
        conn_->in.commit(io.bytes);
        if (!session_.receive(conn_->in.view())) {
          log::debug("HTTP/2 upstream connection failed", {{"error", session_.error()}});
          conn_->in.consume(conn_->in.size());
          return false;
        }
        conn_->in.consume(conn_->in.size());
        if (!conn_->stream().tls() && io.bytes < room.size() && !conn_->peer_closed) {
          conn_->readable = false;
        }
        break;
      case SocketStream::Status::kWantWrite:
        conn_->read_wants_write = true;
        [[fallthrough]];
      case SocketStream::Status::kWantRead:
        conn_->readable = false;
        break;
      case SocketStream::Status::kClosed:
      case SocketStream::Status::kFailed:
        conn_->eof = true;
        return false;
    }
  }
  return true;
}

bool Http2Upstream::write() {
  for (;;) {
    if (out_.size() < kOutHighWater && !session_.send(out_, kOutHighWater)) {
      log::debug("HTTP/2 upstream connection failed", {{"error", session_.error()}});
      return false;
    }
    if (out_.empty() || !conn_->writable) {
      return true;
    }
    const SocketStream::Io io = conn_->stream().write(out_.data());
    if (io.status == SocketStream::Status::kDone) {
      out_.consume(io.bytes);
      out_.release_if_empty();
    } else if (io.status == SocketStream::Status::kWantWrite) {
      conn_->writable = false;
      return true;
    } else if (io.status == SocketStream::Status::kWantRead) {
      conn_->write_wants_read = true;
      conn_->writable = false;
      return true;
    } else {
      return false;
    }
  }
}

void Http2Upstream::flush() {
  if (in_io_ || ended_ || !connected_) {
    return;  // the I/O under way writes when it is through
  }
  in_io_ = true;
  const bool ok = write();
  in_io_ = false;
  if (!ok) {
    broken_ = true;  // ended at the next tick: the caller is an owner at work
  }
  if (!ok || !woken_.empty()) {
    wake_soon();
  }
}

void Http2Upstream::wake_soon() {
  soon_ = true;
  worker_.reactor().timers().arm(*this, std::chrono::milliseconds(0), worker_.reactor().now());
}

void Http2Upstream::wake_owners() {
  // One round: what the wake-ups themselves note (bodies moving) waits for the next event or
  // tick, so a busy stream cannot keep the others waiting.
  std::vector<Http2StreamOwner*> batch;
  batch.swap(woken_);
  std::sort(batch.begin(), batch.end());
  batch.erase(std::unique(batch.begin(), batch.end()), batch.end());
  for (Http2StreamOwner* owner : batch) {
    // Checked at each step: an owner woken before may have made this one go (it forgot
    // itself on the way out).
    if (registered_.contains(owner)) {
      owner->on_h2_wake();
    }
  }
  if (!woken_.empty() && !ended_) {
    wake_soon();
  }
}

void Http2Upstream::end(int connect_error, std::string_view why) {
  if (ended_) {
    return;
  }
  ended_ = true;
  soon_ = false;
  worker_.reactor().timers().cancel(*this);
  if (!why.empty()) {
    log::debug("HTTP/2 upstream connection ended", {{"why", std::string(why)}});
  }
  for (Http2StreamOwner* owner : waiting_) {
    owner->on_h2_connect_failed(connect_error);
    note(owner);
  }
  waiting_.clear();
  session_.close_streams(NGHTTP2_CANCEL);  // each owner notes its stream's close
  // Out of the target's list, destroyed once this batch of events is through.
  if (target_ != nullptr) {
    auto it = std::find_if(target_->h2.begin(), target_->h2.end(),
                           [this](const auto& c) { return c.get() == this; });
    if (it != target_->h2.end()) {
      std::unique_ptr<Pollable> self = std::move(*it);
      target_->h2.erase(it);
      target_ = nullptr;
      worker_.reactor().retire(std::move(self));
    }
  }
}

void Http2Upstream::rearm() {
  if (ended_ || !connected_ || soon_) {
    return;  // connecting: the connect's timer; soon: on_timer rearms
  }
  if (owners_.empty() && waiting_.empty()) {
    worker_.reactor().timers().arm(*this, settings_.idle_timeout, worker_.reactor().now());
  } else if (armed()) {
    worker_.reactor().timers().cancel(*this);
  }
}

void Http2Upstream::on_timer() {
  const bool soon = soon_;
  soon_ = false;
  if (!connected_) {
    count_connect_failure("timed out");
    end(ETIMEDOUT, "the connect timed out");
  } else if (broken_) {
    end(0, session_.error().empty() ? "a write to the upstream failed" : session_.error());
  } else if (!soon) {
    end(0, "");  // idle
  } else {
    rearm();
  }
  wake_owners();
}

void Http2Upstream::on_response(int32_t stream, http2::ResponseHead&& head) {
  if (Http2StreamOwner* owner = owner_of(stream); owner != nullptr) {
    owner->on_h2_response(std::move(head));
    note(owner);
  }
}

void Http2Upstream::on_response_data(int32_t stream, std::span<const char> data) {
  if (Http2StreamOwner* owner = owner_of(stream); owner != nullptr) {
    owner->on_h2_data(data);
    note(owner);
  } else {
    session_.consumed(stream, data.size());
  }
}

void Http2Upstream::on_response_end(int32_t stream) {
  if (Http2StreamOwner* owner = owner_of(stream); owner != nullptr) {
    owner->on_h2_end();
    note(owner);
  }
}

void Http2Upstream::on_body_sent(int32_t stream) {
  if (Http2StreamOwner* owner = owner_of(stream); owner != nullptr) {
    note(owner);
  }
}

void Http2Upstream::on_output_room() {
  for (const auto& [stream, owner] : owners_) {
    note(owner);  // any of them may have been waiting for the session's room
  }
}

void Http2Upstream::on_stream_close(int32_t stream, uint32_t error) {
  auto it = owners_.find(stream);
  if (it == owners_.end()) {
    return;
  }
  Http2StreamOwner* owner = it->second;
  owners_.erase(it);
  owner->on_h2_closed(error);
  note(owner);
  rearm();
}

}  // namespace vigil::l7

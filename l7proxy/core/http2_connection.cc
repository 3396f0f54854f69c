#include "l7proxy/core/http2_connection.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "common/logging.h"
#include "l7proxy/core/request_admission.h"
#include "l7proxy/core/request_record.h"
#include "l7proxy/core/upstream_exchange.h"
#include "l7proxy/http1/forward_head.h"
#include "l7proxy/routing/request_view.h"

namespace vigil::l7 {
namespace {

// HTTP/2's error codes (RFC 9113 7) the proxy resets streams with.
constexpr uint32_t kInternalError = 0x2;

http2::Limits limits_of(const ProxySettings& settings) {
  http2::Limits limits;
  limits.max_header_fields = static_cast<uint32_t>(settings.limits.max_headers);
  limits.max_header_bytes = static_cast<uint32_t>(settings.limits.max_head_bytes);
  return limits;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

// One request on the connection and its exchange with the upstream.
class Http2Connection::Stream final : public ExchangeClient {
 public:
  Stream(Http2Connection& connection, int32_t id)
      : c_(connection), id_(id), exchange_(connection.worker_, *this), pending_(kPendingCap) {}

  void begin(http2::RequestHead&& head);
  void take_body(std::span<const char> data);
  void take_end() { client_done_ = true; }
  // The stream is gone (answered, reset, the connection closing).
  void closed();
  // Moves what can move: the request's body up, the response down. Whether anything moved.
  bool pump();
  // Its exchange times it (connect, response, idleness), or will once started.
  bool timed() const { return exchange_.active() || start_.has_value(); }
  // Something happened to it: pumped in the connection's next pass.
  void mark() {
    if (!marked_) {
      marked_ = true;
      c_.marked_.push_back(id_);
    }
  }
  // Pumped, it could not move response bytes for want of room in its output: pumped again
  // once the connection's output moves.
  bool waits_for_room() const { return waits_for_room_; }
  void stop_waiting() { waits_for_room_ = false; }
  void unmark() { marked_ = false; }

 private:
  // More than the stream's flow-control window never arrives unconsumed.
  static constexpr size_t kPendingCap = size_t{256} * 1024;
  // Body held for the upstream per stream: with 128 streams a connection, 8 MiB at most
  // toward upstreams that read slowly (plus the 1 MiB connection window not yet consumed).
  static constexpr size_t kBodyHighWater = size_t{64} * 1024;

  void on_exchange_connected() override {}
  void on_response_head(const http1::ResponseHead& head, const http1::Framing& framing) override;
  bool response_room() const override { return held_.empty() && c_.session_.body_room(id_) > 0; }
  void on_response_body(std::span<const char> data) override;
  void on_response_end() override;
  void on_exchange_failed(int status, std::string_view why) override;
  void wake() override {
    mark();
    c_.drive();
  }

  void refuse(int status, std::string_view why, uint32_t retry_after = 0);
  // The request body waiting to go up dropped, and the client's window reopened for it.
  void drop_body();
  // An exchange admitted and never started: a breaker probe it held is given back.
  void drop_start();
  void log_request();

  Http2Connection& c_;
  int32_t id_;
  std::shared_ptr<Generation> generation_;
  UpstreamExchange exchange_;
  std::optional<ExchangeRequest> start_;  // admitted, its exchange not started yet
  ByteBuffer pending_;                    // request body the exchange has not taken yet
  uint64_t body_received_ = 0;
  uint64_t max_body_ = 0;
  bool client_done_ = false;
  bool answered_ = false;  // a response began (from the upstream or a refusal)
  bool head_request_ = false;
  ByteBuffer held_{size_t{64} * 1024};  // response body the stream had no room for yet
  bool response_end_ = false;           // the upstream's response is whole
  bool broken_ = false;                 // reset here: the exchange is to end
  bool marked_ = false;                 // in the connection's list to pump
  bool waits_for_room_ = false;
  bool end_queued_ = false;
  std::vector<http2::Header> fields_;

  RequestRecord record_;
};

void Http2Connection::Stream::begin(http2::RequestHead&& head) {
  Worker& worker = c_.worker_;
  record_.begin(worker.reactor().now());
  record_.method = head.method;
  head_request_ = head.method == "HEAD";
  bump(worker.mutable_stats().requests);
  generation_ = worker.generation();
  const ProxyConfig& config = *generation_->config;
  max_body_ = config.settings.max_body_bytes;
  if (head.scheme != "http" && head.scheme != "https") {
    // nghttp2 asks a :path of http(s) only: another scheme is nothing this proxy serves.
    bump(worker.mutable_stats().bad_requests);
    refuse(400, "a :scheme other than http or https");
    return;
  }

  // The request as HTTP/1.1 sees it: what routing looks at and what the upstream is sent are
  // made from one head, whichever protocol brought it. :authority stands for Host (RFC 9113
  // 8.3.1), the client's own host field dropped when both came.
  http1::RequestHead h1;
  h1.method = head.method;
  h1.target = head.path;
  h1.minor_version = 1;
  h1.headers.reserve(head.headers.size() + 1);
  if (!head.authority.empty()) {
    h1.headers.push_back({"host", head.authority});
  }
  uint64_t content_length = 0;
  bool has_length = false;
  for (const http2::Header& h : head.headers) {
    if (h.name == "host" && !head.authority.empty()) {
      continue;
    }
    if (h.name == "content-length") {
      // nghttp2 has checked it is a number the body will match.
      has_length =
          std::from_chars(h.value.data(), h.value.data() + h.value.size(), content_length).ec ==
          std::errc();
    }
    h1.headers.push_back({h.name, h.value});
  }
  const RequestView view = RequestView::from(h1);
  record_.note_target(worker, view, head.path);
  if (view.refuse_status != 0) {
    bump(worker.mutable_stats().bad_requests);
    refuse(view.refuse_status, view.error);
    return;
  }
  http1::Framing framing;
  framing.keep_alive = true;
  if (head.end_stream) {
    framing.body = http1::Body::kNone;
  } else if (has_length) {
    framing.body = http1::Body::kLength;
    framing.length = content_length;
  } else {
    framing.body = http1::Body::kChunked;  // a body of a length not said: chunked upstream
  }
  if (has_length && content_length > max_body_) {
    bump(worker.mutable_stats().bad_requests);
    refuse(413, "a request body past its limit");
    return;
  }
  const Admission admission =
      admit_request(*generation_, view, c_.peer_, worker.reactor().now(), worker.mutable_stats());
  record_.route = admission.route;
  if (admission.status != 0) {
    refuse(admission.status, admission.why, admission.retry_after);
    return;
  }
  record_.request_id = worker.next_request_id();
  const bool tls = c_.io_.tls();
  std::string& upstream_head = exchange_.request_head();
  upstream_head.clear();
  http1::write_upstream_request(h1, framing,
                                {.client_address = c_.peer_,
                                 .scheme = tls ? "https" : "http",
                                 .authority = view.authority,
                                 .path = view.path,
                                 .query = view.query,
                                 .trust_forwarded = c_.listener_.trust_forwarded,
                                 .request_id = record_.request_id,
                                 .add = admission.action->add,
                                 .remove = admission.action->remove,
                                 .reserved = config.reserved_fields,
                                 .subject_field = tls ? c_.listener_.tls->subject_header() : "",
                                 .subject = c_.client_subject_},
                                upstream_head);
  // Started once the read that brought it is through: a stream the client resets within the
  // same read (rapid reset) costs no upstream connection.
  start_ = ExchangeRequest{.generation = generation_,
                           .pool = admission.pool,
                           .hash = admission.hash,
                           .breaker = admission.breaker,
                           .method = record_.method,
                           .framing = framing,
                           .body_high_water = kBodyHighWater};
}

void Http2Connection::Stream::take_body(std::span<const char> data) {
  body_received_ += data.size();
  if (!exchange_.active() && !start_) {
    c_.session_.consumed(id_, data.size());  // answered already: read and dropped
    return;
  }
  if (body_received_ > max_body_) {
    bump(c_.worker_.mutable_stats().bad_requests);
    c_.session_.consumed(id_, data.size());
    refuse(413, "a request body past its limit");
    return;
  }
  pending_.append(data);
}

bool Http2Connection::Stream::pump() {
  bool progress = false;
  if (broken_ && exchange_.active()) {
    drop_body();
    log_request();
    exchange_.reset();
    return true;
  }
  if (start_) {
    ExchangeRequest request = std::move(*start_);
    start_.reset();
    exchange_.start(std::move(request));
    progress = true;
  }
  if (exchange_.active()) {
    if (const size_t n = std::min(pending_.size(), exchange_.body_room()); n > 0) {
      // The window reopens by what went up, not by what arrived: a slow upstream slows the
      // client.
      exchange_.send_body(pending_.data().first(n));
      pending_.consume(n);
      pending_.release_if_empty();
      c_.session_.consumed(id_, n);
      progress = true;
    }
    if (client_done_ && pending_.empty() && !exchange_.request_done() &&
        !exchange_.upstream_write_failed()) {
      exchange_.end_body();
      progress = true;
    }
  }
  // Each step may end the exchange (an answer whole, a failure): the next sees it inactive.
  if (exchange_.active()) {
    progress |= exchange_.read_upstream();
  }
  if (exchange_.active()) {
    progress |= exchange_.pump_response();
  }
  if (exchange_.active()) {
    progress |= exchange_.flush_upstream();
  }
  if (!held_.empty()) {
    const size_t n = c_.session_.queue_body(id_, held_.data(), false);
    held_.consume(n);
    progress |= n > 0;
  }
  if (response_end_ && held_.empty() && !end_queued_) {
    c_.session_.queue_body(id_, {}, true);
    end_queued_ = progress = true;
  }
  if (progress) {
    exchange_.touch();  // its own bytes moved: its idle timeout starts again
    mark();             // and there may be more
  }
  const bool waits = !held_.empty() || (response_end_ && !end_queued_) ||
                     (exchange_.active() && exchange_.response_started() && !response_room());
  if (waits && !waits_for_room_) {
    c_.waiting_.push_back(id_);
  }
  waits_for_room_ = waits;
  return progress;
}

void Http2Connection::Stream::on_response_head(const http1::ResponseHead& head,
                                               const http1::Framing& framing) {
  record_.status = head.status;
  answered_ = true;
  fields_.clear();
  for (const http1::Header& h : head.headers) {
    if (http1::forwards_response_field(head, framing, h)) {
      fields_.push_back({lower(h.name), std::string(h.value)});
    }
  }
  const bool no_body = framing.body == http1::Body::kNone;
  if (!c_.session_.respond(id_, head.status, fields_, no_body)) {
    // Gone, or nghttp2 refused it (past the session's memory): the stream is reset, and the
    // exchange, still running, is ended at the pump's next step.
    c_.session_.reset(id_, kInternalError);
    response_end_ = end_queued_ = broken_ = true;
    return;
  }
  end_queued_ = no_body;
}

void Http2Connection::Stream::on_response_body(std::span<const char> data) {
  record_.body_bytes += data.size();
  const size_t n = c_.session_.queue_body(id_, data, false);
  if (n < data.size()) {
    held_.append(data.subspan(n));  // at most one read's worth: room() is false until it goes
  }
}

void Http2Connection::Stream::drop_body() {
  c_.session_.consumed(id_, pending_.size());  // what the client sent ahead, given back
  pending_.consume(pending_.size());
  pending_.release_if_empty();
}

void Http2Connection::Stream::on_response_end() {
  drop_body();  // answered before the body went whole: no more of it goes up
  response_end_ = true;
  if (held_.empty() && !end_queued_) {
    c_.session_.queue_body(id_, {}, true);
    end_queued_ = true;
  }
  log_request();
  exchange_.reset();
  generation_.reset();
}

void Http2Connection::Stream::on_exchange_failed(int status, std::string_view why) {
  if (status == 0 || answered_) {
    log::debug("HTTP/2 stream cut short", {{"reason", std::string(why)}, {"client", c_.peer_}});
    c_.session_.reset(id_, kInternalError);  // the client must not take what it has for whole
    drop_body();
    log_request();
    exchange_.reset();
    return;
  }
  refuse(status, why);
}

void Http2Connection::Stream::refuse(int status, std::string_view why, uint32_t retry_after) {
  Worker& worker = c_.worker_;
  drop_start();
  exchange_.abandon();
  if (answered_) {
    c_.session_.reset(id_, kInternalError);
    drop_body();
    log_request();
    exchange_.reset();
    return;
  }
  answered_ = true;
  record_.status = status;
  log_request();
  exchange_.reset();
  log::debug("request refused",
             {{"status", status}, {"reason", std::string(why)}, {"client", c_.peer_}});
  bump(worker.mutable_stats().responses[static_cast<size_t>(std::clamp(status / 100, 1, 5))]);
  const std::string_view reason = http1::reason_phrase(status);
  fields_.clear();
  fields_.push_back({"content-type", "text/plain; charset=utf-8"});
  fields_.push_back({"content-length", std::to_string(reason.size() + 1)});
  if (retry_after > 0) {
    fields_.push_back({"retry-after", std::to_string(retry_after)});
  }
  if (!c_.session_.respond(id_, status, fields_, head_request_)) {
    c_.session_.reset(id_, kInternalError);
    drop_body();
    return;
  }
  if (!head_request_) {
    std::string body(reason);
    body.push_back('\n');
    c_.session_.queue_body(id_, body, true);  // far below a stream's room
  }
  // What the client still sends is read and dropped until the answer is out and the stream
  // reset with NO_ERROR (server_session.h).
  response_end_ = end_queued_ = true;
  drop_body();
}

void Http2Connection::Stream::drop_start() {
  if (start_ && start_->breaker == CircuitBreaker::Admission::kProbe) {
    start_->generation->pools[start_->pool].breaker->release_probe();  // it never went
  }
  start_.reset();
}

void Http2Connection::Stream::closed() {
  drop_start();
  if (exchange_.active()) {
    // The client reset it, or the connection is going: the upstream's side is cut too (a
    // half-sent request or response must not be taken as whole there, nor pooled).
    exchange_.abandon();
  }
  log_request();  // not answered: status 0
  exchange_.reset();
  generation_.reset();
}

void Http2Connection::Stream::log_request() {
  // Before the exchange is reset: its names are the request's config's.
  record_.write(c_.worker_, c_.peer_, c_.listener_.name, exchange_.upstream_name(),
                exchange_.target_key());
}

Http2Connection::Http2Connection(Worker& worker, UniqueFd fd, std::string peer_address,
                                 const ListenerInfo& listener, std::unique_ptr<TlsStream> tls,
                                 std::string client_subject)
    : worker_(worker),
      fd_(std::move(fd)),
      peer_(std::move(peer_address)),
      listener_(listener),
      io_(tls ? SocketStream(fd_.get(), std::move(*tls)) : SocketStream(fd_.get())),
      client_subject_(std::move(client_subject)),
      in_(size_t{64} * 1024),
      out_(kHighWater),
      session_(*this, limits_of(worker.generation()->config->settings)) {}

Http2Connection::~Http2Connection() {
  if (fd_.valid()) {
    worker_.reactor().unwatch(fd_.get());
  }
}

void Http2Connection::start(std::span<const char> already_read) {
  bump(worker_.mutable_stats().http2_connections);
  if (!worker_.reactor().watch(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
    close();
    return;
  }
  in_.append(already_read);
  ready_.readable = true;  // what the socket holds past it is read at once
  drive();
}

void Http2Connection::on_events(uint32_t events) {
  if (closed_) {
    return;
  }
  ready_.take(events);
  drive();
}

void Http2Connection::drive() {
  if (closed_ || driving_) {
    return;
  }
  driving_ = true;
  if (worker_.retired() && !going_away_) {
    session_.shut_down();  // a retiring worker takes no new stream
    going_away_ = true;
  }
  wrote_ = false;
  for (;;) {
    ended_.clear();  // closed in an earlier pass: nothing of theirs is under way now
    bool progress = read_client();
    if (lingering_) {
      if (!closed_) {
        lingered_ += in_.size();
        in_.consume(in_.size());
        if (eof_ || lingered_ > kLingerBytes) {
          close();
        }
      }
      if (closed_ || !progress) {
        break;
      }
      continue;
    }
    if (!closed_) {
      progress |= take_input();
    }
    if (!closed_) {
      progress |= pump_streams();
    }
    if (!closed_) {
      progress |= flush_client();
    }
    if (closed_ || !progress) {
      break;
    }
  }
  driving_ = false;
  ended_.clear();
  if (closed_ || lingering_) {
    return;
  }
  if (session_.finished() && out_.empty()) {
    linger();
    return;
  }
  if (eof_ && streams_.empty() && out_.empty()) {
    close();  // the client's end came, and nothing it asked for is left to answer
    return;
  }
  arm_timer();
}

void Http2Connection::linger() {
  // The GOAWAY is out: this side's end follows it, and what the client still sends is read
  // and dropped for a while (bounded in time and bytes), so the close does not reset the
  // connection and lose the GOAWAY in the client's buffer before it was read.
  lingering_ = true;
  io_.shut_write();
  arm(Wait::kLinger, kLingerTime);
  drive();
}

bool Http2Connection::read_client() {
  if (!ready_.readable || eof_) {
    return false;
  }
  const std::span<char> room = in_.room();
  if (room.empty()) {
    return false;
  }
  const SocketStream::Io io = io_.read(room);
  switch (io.status) {
    case SocketStream::Status::kDone:
      in_.commit(io.bytes);
      if (!io_.tls() && io.bytes < room.size() && !ready_.peer_closed) {
        ready_.readable = false;  // drained: the edge-triggered epoll says when more comes
      }
      return true;
    case SocketStream::Status::kWantWrite:
      ready_.read_wants_write = true;
      [[fallthrough]];
    case SocketStream::Status::kWantRead:
      ready_.readable = false;
      return false;
    case SocketStream::Status::kClosed:
      eof_ = true;
      return true;
    case SocketStream::Status::kFailed:
      close();  // reset, or cut without close_notify
      return false;
  }
  return false;
}

bool Http2Connection::take_input() {
  if (lingering_ || in_.empty()) {
    return false;  // at the client's end, what it asked for is still answered (drive)
  }
  if (!session_.receive(in_.data(), worker_.reactor().now())) {
    close();
    return false;
  }
  in_.consume(in_.size());
  in_.release_if_empty();
  return true;
}

bool Http2Connection::pump_streams() {
  // Only the streams something happened to: with hundreds open, visiting each on every event
  // of any of their upstream connections would cost O(streams) per event.
  bool progress = false;
  pumping_.swap(marked_);
  for (const int32_t id : pumping_) {
    if (Stream* s = find(id)) {
      s->unmark();
      progress |= s->pump();
    }
  }
  pumping_.clear();
  return progress;
}

void Http2Connection::output_moved() {
  for (const int32_t id : waiting_) {
    if (Stream* s = find(id); s != nullptr && s->waits_for_room()) {
      s->stop_waiting();  // its pump says again if it still waits
      s->mark();
    }
  }
  waiting_.clear();
}

bool Http2Connection::flush_client() {
  bool progress = false;
  if (out_.size() < kHighWater) {
    const size_t before = out_.size();
    if (!session_.send(out_, kHighWater)) {
      close();
      return false;
    }
    progress = out_.size() != before;
    if (progress) {
      output_moved();  // frames went out of the streams' queues: room for more
    }
  }
  while (!out_.empty() && ready_.writable) {
    const SocketStream::Io io = io_.write(out_.data());
    if (io.status == SocketStream::Status::kDone) {
      out_.consume(io.bytes);
      progress = wrote_ = true;
    } else if (io.status == SocketStream::Status::kWantWrite) {
      ready_.writable = false;
    } else if (io.status == SocketStream::Status::kWantRead) {
      ready_.write_wants_read = true;
      ready_.writable = false;
    } else {
      close();
      return false;
    }
  }
  if (out_.empty()) {
    out_.release_if_empty();
  }
  return progress;
}

Http2Connection::Stream* Http2Connection::find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Connection::on_request(int32_t id, http2::RequestHead&& head) {
  auto stream = std::make_unique<Stream>(*this, id);
  Stream& s = *stream;
  streams_[id] = std::move(stream);
  s.begin(std::move(head));
  s.mark();
}

void Http2Connection::on_request_data(int32_t id, std::span<const char> data) {
  if (Stream* s = find(id)) {
    s->take_body(data);
    s->mark();
  }
}

void Http2Connection::on_request_end(int32_t id) {
  if (Stream* s = find(id)) {
    s->take_end();
    s->mark();
  }
}

void Http2Connection::on_stream_close(int32_t id, uint32_t /*error*/) {
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    return;
  }
  it->second->closed();
  ended_.push_back(std::move(it->second));  // freed when no call of it can be under way
  streams_.erase(it);
}

void Http2Connection::arm(Wait wait, Clock::duration after) {
  wait_ = wait;
  worker_.reactor().timers().arm(*this, after, worker_.reactor().now());
}

void Http2Connection::arm_timer() {
  const auto idle = worker_.generation()->config->settings.idle_timeout;
  if (streams_.empty()) {
    // From when the last stream ended: what the client sends without opening one (PINGs,
    // settings, a header block trickled a byte at a time) does not put it off.
    if (wait_ != Wait::kIdle) {
      arm(Wait::kIdle, idle);
    }
    return;
  }
  if (std::any_of(streams_.begin(), streams_.end(),
                  [](const auto& s) { return s.second->timed(); })) {
    wait_ = Wait::kNone;  // each exchange times its own stream
    worker_.reactor().timers().cancel(*this);
    return;
  }
  // Streams answered whose last bytes wait for a client that does not read (or opens no
  // window): ended if nothing reaches it for the idle timeout.
  if (wait_ != Wait::kStall || wrote_) {
    arm(Wait::kStall, idle);
  }
}
void Http2Connection::on_timer() {
  if (closed_) {
    return;
  }
  switch (wait_) {
    case Wait::kNone:
      return;
    case Wait::kIdle:
      if (!going_away_) {
        // Idle: a GOAWAY first, so the client knows no stream of its was cut (RFC 9113 6.8);
        // the connection ends once it is out (linger), or at the next timeout if it never goes.
        session_.shut_down();
        going_away_ = true;
        wait_ = Wait::kNone;
        drive();
        return;
      }
      close();
      return;
    case Wait::kStall:
      bump(worker_.mutable_stats().timeouts);
      close();
      return;
    case Wait::kLinger:
      close();
      return;
  }
}
void Http2Connection::abort() {
  close();
}

void Http2Connection::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (!session_.error().empty()) {
    // The client's doing (a protocol error, a flood, resets past the rate), so counted and
    // not logged above debug: anyone can cause one, as often as they like.
    bump(worker_.mutable_stats().http2_errors);
    log::debug("HTTP/2 connection ended", {{"client", peer_}, {"reason", session_.error()}});
  }
  worker_.reactor().timers().cancel(*this);
  session_.close_streams(kInternalError);  // each stream's exchange ends, each is logged
  for (auto& [id, stream] : streams_) {
    stream->closed();  // those the session never told of (none, in principle)
    ended_.push_back(std::move(stream));
  }
  streams_.clear();
  worker_.reactor().unwatch(fd_.get());
  fd_.reset();
  if (!driving_) {
    ended_.clear();
  }
  worker_.closed(this);
}

}  // namespace vigil::l7

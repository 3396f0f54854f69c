#include "common/json_rpc_server.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

#include "common/line_framer.h"
#include "common/logging.h"

namespace vigil::rpc {

using Clock = std::chrono::steady_clock;

namespace {

// Complete request lines a connection may have waiting behind one that is being answered
// later (a deferred method): a pipelining client gets kServerBusy past it.
constexpr size_t kMaxQueuedLines = 64;

}  // namespace

struct Server::Connection {
  Connection(UniqueFd f, size_t max_line) : fd(std::move(f)), framer(max_line) {}
  UniqueFd fd;
  LineFramer framer;
  uint64_t id = 0;  // never reused, unlike the fd: a late answer finds its connection or none
  CallContext context;
  bool owner = false;
  Clock::time_point last_input = Clock::now();
  Clock::time_point last_output = Clock::now();    // the peer last took some of our output
  std::optional<Clock::time_point> partial_since;  // an unfinished line began then
  std::string output;
  size_t output_sent = 0;
  bool close_after_flush = false;  // no more reading; close once output is written
  bool waiting_writable = false;   // EPOLLOUT armed because the socket buffer was full
  // Complete lines not handled yet: they wait while a deferred method of this connection is
  // being answered (`busy`), so answers leave in the order of the requests.
  std::deque<std::string> queued;
  size_t queued_bytes = 0;
  bool busy = false;
  bool dispatching = false;      // inside run_queued(): an answer given at once is only appended
  bool reading_stopped = false;  // input no longer watched (close_after_flush)
  bool peer_gone = false;        // hung up with work under way: answers are dropped
};

Server::Server(EventLoop& loop, const Dispatcher& dispatcher, ServerOptions options)
    : loop_(loop), dispatcher_(dispatcher), options_(std::move(options)) {
  if (options_.max_buffered_input == 0) {
    options_.max_buffered_input = 4 * options_.max_request_bytes;
  }
  if (!options_.peer_lookup) {
    options_.peer_lookup = peer_credentials;
  }
}

Server::~Server() {
  stop();
}

Status Server::start() {
  auto fd = listen_unix(options_.path, options_.listen);
  if (!fd) {
    return fail(fd.error());
  }
  listener_ = std::move(fd).value();
  auto timer = loop_.add_timer(options_.sweep_interval, [this] { sweep(); });
  if (!timer) {
    return fail(timer.error());
  }
  sweep_timer_ = *timer;
  return loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { on_accept(); });
}

void Server::stop() {
  while (!connections_.empty()) {
    close_connection(connections_.begin()->first);
  }
  if (sweep_timer_ >= 0) {
    loop_.remove(sweep_timer_);
    sweep_timer_ = -1;
  }
  if (listener_.valid()) {
    loop_.remove(listener_.get());
    listener_.reset();
    ::unlink(options_.path.c_str());
  }
}

void Server::on_accept() {
  while (true) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EINTR) {
        log::warn("accept failed", {{"socket", options_.path}, {"error", std::strerror(errno)}});
      }
      return;
    }
    const PeerCredentials peer = options_.peer_lookup(fd.get());
    if (const std::string why = refusal(peer); !why.empty()) {
      const std::string line = error_line(Error{kTooManyConnections, why}) + "\n";
      [[maybe_unused]] ssize_t n = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL);
      log::warn("connection refused",
                {{"socket", options_.path}, {"peer_uid", peer.uid}, {"reason", why}});
      continue;
    }
    const int raw = fd.get();
    auto conn = std::make_unique<Connection>(std::move(fd), options_.max_request_bytes);
    conn->id = next_id_++;
    conn->context.peer = peer;
    conn->owner = is_owner(peer);
    connections_.emplace(raw, std::move(conn));
    if (auto st =
            loop_.add(raw, EPOLLIN | EPOLLRDHUP, [this, raw](uint32_t ev) { on_event(raw, ev); });
        !st) {
      log::warn("cannot watch connection", {{"error", st.error()}});
      connections_.erase(raw);
    }
  }
}

void Server::on_event(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  if ((events & EPOLLIN) != 0 && !c.close_after_flush) {
    handle_readable(c);
  }
  if (connections_.find(fd) == connections_.end()) {
    return;
  }
  if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
    if (!c.busy && c.queued.empty()) {
      close_connection(fd);
      return;
    }
    // The peer is gone but asked for work that is under way (a set then a commit, say): it
    // is done all the same, its answers dropped, and the connection closed after the last.
    // Out of epoll meanwhile: a hang-up stays reported whatever events are asked for.
    c.peer_gone = true;
    c.close_after_flush = true;
    c.reading_stopped = true;
    loop_.remove(fd);
    return;
  }
  if (c.close_after_flush && !c.reading_stopped) {
    // Nothing more to read: stop watching for input, or an end of file that stays readable
    // would wake the loop at once, again and again, while an answer is still being worked on.
    c.reading_stopped = true;
    if (!loop_.modify(fd, events_of(c))) {
      close_connection(fd);
      return;
    }
  }
  flush(c);
}

void Server::answer_and_close(Connection& c, const Error& error, std::string_view why) {
  c.output += error_line(error);
  c.output += '\n';
  c.close_after_flush = true;
  log::warn(why, {{"socket", options_.path},
                  {"peer_uid", c.context.peer.uid},
                  {"peer_pid", c.context.peer.pid}});
}

uint32_t Server::events_of(const Connection& c) {
  return (c.reading_stopped ? 0u : static_cast<uint32_t>(EPOLLIN | EPOLLRDHUP)) |
         (c.waiting_writable ? static_cast<uint32_t>(EPOLLOUT) : 0u);
}

void Server::run_queued(Connection& c) {
  if (c.dispatching) {
    return;
  }
  c.dispatching = true;
  while (!c.busy && !c.queued.empty()) {
    // A client that pipelines faster than it reads gets no more answers queued than the
    // limit; handle_readable's check then closes it.
    if (c.output.size() - c.output_sent > options_.max_pending_output) {
      break;
    }
    std::string line = std::move(c.queued.front());
    c.queued.pop_front();
    c.queued_bytes -= line.size();
    c.busy = true;
    const uint64_t id = c.id;
    dispatcher_.handle_line(line, c.context, [this, id](std::optional<std::string> reply) {
      on_reply(id, std::move(reply));
    });
  }
  c.dispatching = false;
}

void Server::on_reply(uint64_t id, std::optional<std::string> reply) {
  auto it = std::find_if(connections_.begin(), connections_.end(),
                         [id](const auto& entry) { return entry.second->id == id; });
  if (it == connections_.end()) {
    return;  // the caller left before its answer was ready
  }
  Connection& c = *it->second;
  if (reply) {
    c.output += *reply;
    c.output += '\n';
  }
  c.busy = false;
  if (!c.dispatching) {
    // Answered later, from the loop: go on with what waited behind it, then send.
    c.last_input = Clock::now();  // the idle clock starts from the answer, not the request
    run_queued(c);
    flush(c);
  }
}

void Server::handle_readable(Connection& c) {
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        c.close_after_flush = true;
      }
      return;
    }
    if (n == 0) {
      // The peer finished sending; answer what it asked, then close.
      c.close_after_flush = true;
      return;
    }
    const auto status =
        c.framer.feed(std::string_view(buf, static_cast<size_t>(n)), [&](std::string_view line) {
          c.queued.emplace_back(line);
          c.queued_bytes += line.size();
        });
    run_queued(c);
    if (!c.owner && c.queued.size() > kMaxQueuedLines) {
      c.queued.clear();
      c.queued_bytes = 0;
      answer_and_close(
          c,
          Error{kServerBusy, "server busy: more than " + std::to_string(kMaxQueuedLines) +
                                 " requests wait behind one being answered; "
                                 "wait for answers before sending more"},
          "requests pile up behind one being answered; closing connection");
      return;
    }
    c.last_input = Clock::now();
    if (c.framer.buffered_bytes() == 0) {
      c.partial_since.reset();
    } else if (!c.partial_since) {
      c.partial_since = c.last_input;
    }
    // One user's unfinished requests together may hold one request's worth: a user with many
    // connections cannot spend the budget everyone shares.
    const bool holding = c.framer.buffered_bytes() > 0 || !c.queued.empty();
    if (status == LineFramer::Status::kOk && !c.owner && holding &&
        unfinished_of(c.context.peer.uid) > options_.max_request_bytes) {
      answer_and_close(
          c,
          Error{kServerBusy, "server busy: your unfinished requests hold more than " +
                                 std::to_string(options_.max_request_bytes) +
                                 " bytes (one request's worth per user); finish one first"},
          "a user's unfinished requests exceed one request; closing one of them");
      return;
    }
    if (status == LineFramer::Status::kOk && !c.owner && holding &&
        buffered_input() > options_.max_buffered_input) {
      answer_and_close(
          c,
          Error{kServerBusy, "server busy: " + std::to_string(options_.max_buffered_input) +
                                 " bytes of unfinished requests are buffered "
                                 "already; try again shortly"},
          "input budget spent; closing a connection with an unfinished request");
      return;
    }
    if (status == LineFramer::Status::kOverflow) {
      answer_and_close(
          c,
          Error{kRequestTooLarge, "request exceeds the limit of " +
                                      std::to_string(options_.max_request_bytes) + " bytes"},
          "request too large; closing connection");
      return;
    }
    if (c.output.size() - c.output_sent > options_.max_pending_output) {
      log::warn("client does not read its responses; closing connection",
                {{"socket", options_.path}, {"peer_pid", c.context.peer.pid}});
      close_connection(c.fd.get());
      return;
    }
  }
}

void Server::flush(Connection& c) {
  const int fd = c.fd.get();
  if (c.peer_gone) {
    c.output.clear();
    c.output_sent = 0;
    if (!c.busy && c.queued.empty()) {
      close_connection(fd);
    }
    return;
  }
  while (c.output_sent < c.output.size()) {
    const ssize_t n =
        ::send(fd, c.output.data() + c.output_sent, c.output.size() - c.output_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        if (!c.waiting_writable) {
          c.waiting_writable = true;
          if (!loop_.modify(fd, events_of(c))) {
            close_connection(fd);
            return;
          }
        }
        return;
      }
      close_connection(fd);
      return;
    }
    c.output_sent += static_cast<size_t>(n);
    c.last_output = Clock::now();
  }
  c.output.clear();
  c.output_sent = 0;
  if (!c.busy && !c.queued.empty() && !c.dispatching) {
    // Lines left waiting while the answers ahead of them were over the output limit.
    run_queued(c);
    if (!c.output.empty()) {
      flush(c);
      return;
    }
  }
  if (c.close_after_flush && !c.busy && c.queued.empty()) {
    close_connection(fd);
    return;
  }
  // Only touch epoll when EPOLLOUT was armed: the common case costs no extra syscall.
  if (c.waiting_writable) {
    c.waiting_writable = false;
    if (!loop_.modify(fd, events_of(c))) {
      close_connection(fd);
    }
  }
}

std::string Server::refusal(const PeerCredentials& peer) const {
  const bool owner = is_owner(peer);
  const size_t limit = options_.max_connections + (owner ? options_.owner_reserved_connections : 0);
  if (connections_.size() >= limit) {
    return "too many connections (limit " + std::to_string(options_.max_connections) + ")";
  }
  if (owner) {
    return "";
  }
  size_t same_user = 0;
  for (const auto& [_, c] : connections_) {
    same_user += c->context.peer.uid == peer.uid ? 1 : 0;
  }
  if (same_user >= options_.max_connections_per_user) {
    return "too many connections from uid " + std::to_string(peer.uid) + " (limit " +
           std::to_string(options_.max_connections_per_user) + " per user)";
  }
  return "";
}

size_t Server::unfinished_of(uid_t uid) const {
  size_t total = 0;
  for (const auto& [_, c] : connections_) {
    if (c->context.peer.uid == uid) {
      total += c->framer.buffered_bytes() + c->queued_bytes;
    }
  }
  return total;
}

size_t Server::buffered_input() const {
  size_t total = 0;
  for (const auto& [_, c] : connections_) {
    total += c->framer.capacity() + c->queued_bytes;  // what is held, not only what is pending
  }
  return total;
}

namespace {

// A request already in the socket buffer (the loop was busy, e.g. in a long activate) is not
// idleness: the read handler takes it next.
bool has_unread_input(int fd) {
  int bytes = 0;
  return ::ioctl(fd, FIONREAD, &bytes) == 0 && bytes > 0;
}

}  // namespace

void Server::sweep() {
  const auto now = Clock::now();
  std::vector<int> idle;
  for (auto& [fd, c] : connections_) {
    if (c->busy) {
      continue;  // waiting for its answer from us, not idle
    }
    // A connection only waiting to flush its last words (close_after_flush) still goes when
    // its peer never takes them: the idle rule below covers it.
    if (!c->close_after_flush && c->partial_since &&
        now - *c->partial_since >= options_.request_timeout && !has_unread_input(fd)) {
      answer_and_close(
          *c,
          Error{kRequestTimeout,
                "request not completed within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       options_.request_timeout)
                                       .count()) +
                    " ms"},
          "closing a connection whose request never finished");
      idle.push_back(fd);  // flushed (best effort) and closed below
    } else if (now - std::max(c->last_input, c->last_output) >= options_.idle_timeout &&
               !has_unread_input(fd)) {
      // Idle both ways: nothing sent to us, nothing of ours taken (a reader that stalled
      // holds its unread answers; it is closed the same way).
      idle.push_back(fd);
    }
  }
  for (const int fd : idle) {
    if (auto it = connections_.find(fd); it != connections_.end()) {
      it->second->close_after_flush = true;
      flush(*it->second);  // closes once written; a full socket buffer closes it anyway
      if (connections_.contains(fd)) {
        close_connection(fd);
      }
    }
  }
}

void Server::close_connection(int fd) {
  loop_.remove(fd);
  connections_.erase(fd);
}

}  // namespace vigil::rpc

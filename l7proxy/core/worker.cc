#include "l7proxy/core/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <future>
#include <random>

#include "common/logging.h"
#include "l7proxy/core/client_connection.h"

namespace vigil::l7 {
namespace {

// "192.0.2.7", "2001:db8::1"; an IPv4 client of a dual-stack socket as IPv4.
std::string address_text(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      ::inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    }
  }
  return text;
}

constexpr auto kSweepInterval = std::chrono::seconds(1);

}  // namespace

// A listener's socket on this worker. When accepting fails for want of descriptors (EMFILE),
// the connections still queued would wait for a new arrival to wake the edge-triggered epoll:
// it tries again on a timer instead.
class Worker::Acceptor final : public Pollable, public Timer {
 public:
  Acceptor(Worker& worker, std::shared_ptr<UniqueFd> fd, ListenerInfo info)
      : worker_(worker), fd_(std::move(fd)), info_(std::move(info)) {}
  ~Acceptor() override { worker_.reactor().unwatch(fd_->get()); }
  void on_events(uint32_t /*events*/) override { accept(); }
  const std::shared_ptr<UniqueFd>& fd() const { return fd_; }
  void set_info(ListenerInfo info) { info_ = std::move(info); }
  // Takes what is queued now (a retiring worker's last accept).
  void drain() {
    if (!worker_.accept_from(fd_->get(), info_)) {
      log::warn("a retiring worker could not take every queued connection (out of descriptors)",
                {{"listener", info_.name}});
    }
  }

 private:
  static constexpr auto kRetry = std::chrono::milliseconds(100);
  void on_timer() override { accept(); }
  void accept() {
    if (!worker_.accept_from(fd_->get(), info_)) {
      worker_.reactor().timers().arm(*this, kRetry, worker_.reactor().now());
    }
  }

  Worker& worker_;
  std::shared_ptr<UniqueFd> fd_;
  ListenerInfo info_;
};

// Closes kept-alive upstream connections idle past their pool's limit, once a second.
class IdleSweeper final : public Timer {
 public:
  explicit IdleSweeper(std::function<void()> sweep) : sweep_(std::move(sweep)) {}

 private:
  void on_timer() override { sweep_(); }
  std::function<void()> sweep_;
};

Worker::Worker(size_t index) : index_(index) {
  std::random_device random;
  const uint64_t prefix = (uint64_t{random()} << 32) ^ random();
  char text[17] = {};
  std::to_chars(text, text + 16, prefix, 16);
  request_id_prefix_ = std::string(text) + "-" + std::to_string(index) + "-";
}

Worker::~Worker() {
  stop();
}

void Worker::start() {
  sweeper_ = std::make_unique<IdleSweeper>([this] { sweep_idle(); });
  reactor_.timers().arm(*sweeper_, kSweepInterval, Reactor::Clock::now());
  thread_ = std::thread([this] {
    reactor_.run();
    // Stopped: every connection closes with the worker.
    while (!clients_.empty()) {
      (*clients_.begin())->abort();
    }
    acceptors_.clear();
    access_log_.reset();  // written out
    generation_.reset();
    targets_.clear();
    breakers_.clear();
    limiters_.clear();
    reactor_.reap();
  });
}

void Worker::stop() {
  if (thread_.joinable()) {
    reactor_.stop();
    thread_.join();
  }
}

void Worker::retire() {
  const auto stop_accepting = [this] {
    // What completed its handshake in a queue is taken, so letting the socket go resets
    // nobody; a connection that completes in the instant between the two would be reset,
    // unless net.ipv4.tcp_migrate_req moves it to another worker's socket (docs/operations.md).
    for (auto& a : acceptors_) {
      a->drain();
    }
    acceptors_.clear();
    retired_.store(true, std::memory_order_release);
  };
  if (!thread_.joinable()) {
    stop_accepting();
    return;
  }
  reactor_.post(stop_accepting);
}

void Worker::apply(std::shared_ptr<const ProxyConfig> config,
                   std::vector<ListenerBinding> listeners, std::shared_ptr<UniqueFd> access_log,
                   std::shared_ptr<const HealthBoard> health) {
  if (!thread_.joinable()) {
    // Not started yet: the caller's thread.
    take(std::move(config), std::move(listeners), std::move(access_log), std::move(health));
    return;
  }
  reactor_.post([this, config = std::move(config), listeners = std::move(listeners),
                 access_log = std::move(access_log), health = std::move(health)]() mutable {
    take(std::move(config), std::move(listeners), std::move(access_log), std::move(health));
  });
}

void Worker::take(std::shared_ptr<const ProxyConfig> config, std::vector<ListenerBinding> listeners,
                  std::shared_ptr<UniqueFd> access_log, std::shared_ptr<const HealthBoard> health) {
  // The access log: the file given, in the fields the config names (what waits for the old
  // file goes to it first).
  if (access_log && config->access_log) {
    access_log_ = std::make_unique<AccessLog>(std::move(access_log), config->access_log->fields);
  } else {
    access_log_.reset();
  }
  std::vector<std::unique_ptr<Acceptor>> next;
  for (size_t i = 0; i < listeners.size() && i < config->listeners.size(); ++i) {
    ListenerInfo info{.name = config->listeners[i].name,
                      .trust_forwarded = config->listeners[i].trust_forwarded,
                      .http2 = config->listeners[i].http2,
                      .tls = std::move(listeners[i].tls)};
    const auto& socket = listeners[i].socket;
    auto same = std::find_if(acceptors_.begin(), acceptors_.end(),
                             [&](const auto& a) { return a && a->fd() == socket; });
    if (same != acceptors_.end()) {
      (*same)->set_info(std::move(info));
      next.push_back(std::move(*same));
      continue;
    }
    auto acceptor = std::make_unique<Acceptor>(*this, socket, std::move(info));
    if (auto st = reactor_.watch(socket->get(), EPOLLIN, acceptor.get()); !st) {
      log::error("cannot watch a listener",
                 {{"listener", config->listeners[i].name}, {"error", st.error()}});
      continue;
    }
    next.push_back(std::move(acceptor));
  }
  acceptors_ = std::move(next);  // those not kept unwatch here; their sockets close with
                                 // the last holder (the control thread drops its own)
  if (!generation_ || generation_->config != config) {
    // Totals stay when a commit removes their route or upstream (so they never shrink),
    // unless names have piled up past any one config's: then those of names gone are dropped.
    if (totals_.routes.size() + totals_.upstreams.size() > kMaxTotals) {
      prune_totals(*config);
    }
    generation_ = make_generation(std::move(config), targets_, breakers_, limiters_,
                                  std::move(health), index_ * 7919 + 1);
  }
}

void Worker::prune_totals(const ProxyConfig& config) {
  std::erase_if(totals_.routes, [&](const auto& entry) {
    for (size_t i = 0; i < config.routes.size(); ++i) {
      if (config.routes.at(i).name == entry.first) {
        return false;
      }
    }
    return true;
  });
  std::erase_if(totals_.upstreams, [&](const auto& entry) {
    return std::none_of(config.upstreams.begin(), config.upstreams.end(),
                        [&](const UpstreamSpec& u) { return u.name == entry.first; });
  });
}

void Worker::count_request(std::string_view route, std::string_view upstream, int status,
                           double seconds) {
  if (!route.empty()) {
    RequestTotals::at(totals_.routes, route).add(status, seconds);
  }
  if (!upstream.empty()) {
    RequestTotals::at(totals_.upstreams, upstream).add(status, seconds);
  }
}

std::future<RequestTotals> Worker::ask_request_totals() {
  if (!thread_.joinable()) {
    return {};
  }
  auto answer = std::make_shared<std::promise<RequestTotals>>();
  auto future = answer->get_future();
  reactor_.post([this, answer] { answer->set_value(totals_); });
  return future;
}

bool Worker::accept_from(int fd, const ListenerInfo& listener) {
  const ProxySettings& settings = generation_->config->settings;
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    UniqueFd client(
        ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) {
      // A connection's own failure (accept(2): treat as EAGAIN and retry): the next one.
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO || errno == ENETDOWN ||
          errno == ENOPROTOOPT || errno == EHOSTDOWN || errno == ENONET || errno == EHOSTUNREACH ||
          errno == EOPNOTSUPP || errno == ENETUNREACH || errno == EPERM) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return true;
      }
      // Anything else (no descriptor, no memory): what is queued waits for the retry timer,
      // not for the next connection's wake-up.
      log::warn("accept failed", {{"listener", listener.name}, {"error", std::strerror(errno)}});
      return false;
    }
    if (clients_.size() >= settings.max_connections) {
      bump(stats_.refused_connections);
      continue;  // closed at once: the limit holds memory and descriptors bounded
    }
    const int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bump(stats_.accepted);
    bump(stats_.active_connections);
    auto c = new ClientConnection(*this, std::move(client), address_text(peer), listener);
    clients_.insert(c);
    c->start();
  }
}

void Worker::closed(Downstream* c) {
  if (clients_.erase(c) > 0) {
    drop(stats_.active_connections);
    reactor_.retire(std::unique_ptr<Pollable>(c));
  }
}

void Worker::hand_over(Downstream* from, Downstream* to) {
  if (clients_.erase(from) > 0) {
    clients_.insert(to);
    reactor_.retire(std::unique_ptr<Pollable>(from));
  }
}

std::string Worker::next_request_id() {
  char text[20] = {};
  auto [end, ec] = std::to_chars(text, text + sizeof text, ++request_counter_, 16);
  std::string id;
  id.reserve(request_id_prefix_.size() + static_cast<size_t>(end - text));
  id.append(request_id_prefix_).append(text, end);
  return id;
}

std::future<Worker::TargetStates> Worker::ask_target_states(const ProxyConfig* config) {
  if (!thread_.joinable()) {
    return {};
  }
  auto answer = std::make_shared<std::promise<TargetStates>>();
  auto future = answer->get_future();
  reactor_.post([this, config, answer] {
    TargetStates out;
    if (generation_ && generation_->config.get() == config) {
      const auto now = reactor_.now();
      for (const auto& pool : generation_->pools) {
        auto& states = out.emplace_back();
        for (const auto& t : pool.targets) {
          const auto until = t->outlier.ejected_until();
          const bool ejected = t->outlier.ejected(now);
          states.push_back(
              {.in_flight = t->active,
               .idle = static_cast<uint32_t>(t->idle.size()),
               .http2 = static_cast<uint32_t>(t->h2.size()),
               .ejected = ejected,
               .ejected_for_ms =
                   ejected
                       ? std::chrono::duration_cast<std::chrono::milliseconds>(*until - now).count()
                       : 0,
               .ejections = t->outlier.ejections()});
        }
      }
    }
    answer->set_value(std::move(out));
  });
  return future;
}

void Worker::sweep_idle() {
  const auto now = reactor_.now();
  if (access_log_) {
    access_log_->flush();
    bump(stats_.access_log_dropped, access_log_->take_dropped());
  }
  if (generation_) {
    for (size_t p = 0; p < generation_->pools.size(); ++p) {
      const UpstreamSpec& spec = generation_->config->upstreams[p];
      for (auto& target : generation_->pools[p].targets) {
        std::erase_if(target->idle, [&](const std::unique_ptr<UpstreamConnection>& c) {
          return now - c->idle_since >= spec.idle_timeout || now - c->opened() >= spec.max_lifetime;
        });
      }
    }
  }
  reactor_.timers().arm(*sweeper_, kSweepInterval, now);
}

}  // namespace vigil::l7

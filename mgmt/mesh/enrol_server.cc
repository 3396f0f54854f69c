#include "mgmt/mesh/enrol_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/json_bounded.h"
#include "common/logging.h"

namespace vigil::mgmt::mesh {
namespace {

Expected<UniqueFd> listen_on(const net::HostPort& where) {
  const bool v6 = where.address.family == 6;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return fail(std::string("cannot make a socket: ") + std::strerror(errno));
  }
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // The wan addresses may come up after vigild starts (vigil-dp, DHCP): bind anyway.
  ::setsockopt(fd.get(), SOL_IP, IP_FREEBIND, &one, sizeof one);
  if (v6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  sockaddr_storage ss{};
  const socklen_t len = where.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), 16) != 0) {
    return fail("cannot listen on " + where.to_string() + ": " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

Expected<std::unique_ptr<EnrolServer>> EnrolServer::start(std::vector<net::HostPort> listen,
                                                          std::shared_ptr<const enrol::Identity> me,
                                                          Handler handler) {
  std::unique_ptr<EnrolServer> s(new EnrolServer());
  for (const net::HostPort& where : listen) {
    auto fd = listen_on(where);
    if (!fd) {
      return fail(fd.error());
    }
    s->listeners_.push_back(std::move(*fd));
  }
  s->stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->stop_.valid()) {
    return fail(std::string("cannot make an eventfd: ") + std::strerror(errno));
  }
  s->addresses_ = std::move(listen);
  s->me_ = std::move(me);
  s->handler_ = std::move(handler);
  s->workers_ = std::make_unique<WorkerPool>(kThreads, kMaxWaiting);
  s->acceptor_ = std::thread([raw = s.get()] { raw->accept_loop(); });
  return s;
}

EnrolServer::~EnrolServer() {
  stopping_.store(true);
  const uint64_t one = 1;
  if (::write(stop_.get(), &one, sizeof one) < 0) {
    log::warn("cannot stop the enrolment service's acceptor", {{"error", std::strerror(errno)}});
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  workers_.reset();  // the connections being served see stopping_ and end within 100 ms
}

void EnrolServer::accept_loop() {
  std::vector<pollfd> fds;
  fds.push_back({.fd = stop_.get(), .events = POLLIN, .revents = 0});
  for (const UniqueFd& l : listeners_) {
    fds.push_back({.fd = l.get(), .events = POLLIN, .revents = 0});
  }
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      log::error("the enrolment service stopped", {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) {
        continue;
      }
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      UniqueFd conn(::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!conn.valid()) {
        continue;
      }
      const std::string address = enrol::address_text(peer);
      if (!admit(address)) {
        refused_busy_.fetch_add(1);
        continue;
      }
      auto shared = std::make_shared<UniqueFd>(std::move(conn));
      if (!workers_->submit([this, shared, address] {
            serve(std::move(*shared));
            release(address);
          })) {
        release(address);
        refused_busy_.fetch_add(1);  // closed here: the busy answer is the closed connection
      }
    }
  }
}

bool EnrolServer::admit(const std::string& address) {
  std::lock_guard lock(per_address_mutex_);
  size_t& n = per_address_[address];
  if (n >= kMaxPerAddress) {
    return false;
  }
  ++n;
  return true;
}

void EnrolServer::release(const std::string& address) {
  std::lock_guard lock(per_address_mutex_);
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

void EnrolServer::serve(UniqueFd fd) {
  auto channel =
      enrol::TlsChannel::accept(std::move(fd), *me_, kHandshakeBudget, kBudget, &stopping_);
  if (!channel) {
    log::info("enrolment: connection refused", {{"error", channel.error()}});
    return;
  }
  auto line = channel->read_line();
  if (!line) {
    log::info("enrolment: no request", {{"error", line.error()}});
    return;
  }
  nlohmann::json answer;
  if (auto request = parse_json_bounded(*line, 8); !request || !request->is_object()) {
    answer = {
        {"error", {{"reason", "malformed"}, {"message", "the request is not a JSON object"}}}};
  } else {
    try {
      answer = handler_(*request, *channel, stopping_);
    } catch (const std::exception& e) {
      answer = {{"error", {{"reason", "internal"}, {"message", e.what()}}}};
    }
  }
  if (Status sent = channel->send_line(answer.dump()); !sent) {
    log::info("enrolment: the answer was not delivered", {{"error", sent.error()}});
  }
}

}  // namespace vigil::mgmt::mesh

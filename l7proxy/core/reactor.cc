#include "l7proxy/core/reactor.h"

#include <sys/eventfd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vigil::l7 {

Reactor::Reactor()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      timers_(Clock::now()),
      now_(Clock::now()) {
  if (valid()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up eventfd
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  }
}

Status Reactor::watch(int fd, uint32_t events, Pollable* handler) {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return Ok{};
}

void Reactor::unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Reactor::run() {
  std::array<epoll_event, 256> events{};
  while (!stopping_.load(std::memory_order_acquire)) {
    now_ = Clock::now();
    const auto wait = timers_.wait(now_);
    const int timeout = wait ? static_cast<int>(wait->count()) : -1;
    const int n =
        ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<Pollable*>(events[i].data.ptr);
      if (handler == nullptr) {
        uint64_t count = 0;
        [[maybe_unused]] auto r = ::read(wake_.get(), &count, sizeof count);
        continue;
      }
      handler->on_events(events[i].events);
    }
    timers_.advance(now_);
    drain_posted();
    reap();
  }
  drain_posted();
  reap();
}

void Reactor::stop() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
}

void Reactor::post(std::function<void()> task) {
  {
    const std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
}

void Reactor::drain_posted() {
  std::vector<std::function<void()>> tasks;
  {
    const std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) {
    task();
  }
}

}  // namespace vigil::l7

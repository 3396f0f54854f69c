#include "common/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/logging.h"

namespace vigil {

EventLoop::EventLoop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (valid()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  }
}

Status EventLoop::add(int fd, uint32_t events, Callback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail(std::string("epoll_ctl(ADD): ") + std::strerror(errno));
  }
  callbacks_[fd] = std::make_shared<Callback>(std::move(callback));
  return Ok{};
}

Status EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return fail(std::string("epoll_ctl(MOD): ") + std::strerror(errno));
  }
  return Ok{};
}

Expected<int> EventLoop::add_timer(std::chrono::milliseconds interval,
                                   std::function<void()> callback) {
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!fd.valid()) {
    return fail(std::string("timerfd_create: ") + std::strerror(errno));
  }
  itimerspec spec{};
  spec.it_interval.tv_sec = interval.count() / 1000;
  spec.it_interval.tv_nsec = (interval.count() % 1000) * 1000000;
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(fd.get(), 0, &spec, nullptr) != 0) {
    return fail(std::string("timerfd_settime: ") + std::strerror(errno));
  }
  const int raw = fd.get();
  auto st = add(raw, EPOLLIN, [raw, cb = std::move(callback)](uint32_t) {
    uint64_t expirations;
    if (::read(raw, &expirations, sizeof expirations) == sizeof expirations) {
      cb();
    }
  });
  if (!st) {
    return fail(st.error());
  }
  timers_.push_back(std::move(fd));
  return raw;
}

void EventLoop::remove(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(fd);
}

void EventLoop::run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    run_once(-1);
  }
}

void EventLoop::run_once(int timeout_ms) {
  epoll_event events[64];
  const int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_.get()) {
      uint64_t drained;
      [[maybe_unused]] ssize_t r = ::read(wake_.get(), &drained, sizeof drained);
      std::vector<std::function<void()>> tasks;
      {
        std::lock_guard lock(posted_mutex_);
        tasks.swap(posted_);
      }
      for (auto& task : tasks) {
        // One task's failure must not drop the others (answers owed to other callers).
        try {
          task();
        } catch (const std::exception& e) {
          log::error("a task posted to the event loop failed", {{"error", e.what()}});
        }
      }
      continue;
    }
    // A callback earlier in this batch may have removed this fd; hold the callback alive
    // while it runs because it may remove itself.
    auto it = callbacks_.find(fd);
    if (it == callbacks_.end()) {
      continue;
    }
    std::shared_ptr<Callback> cb = it->second;
    (*cb)(events[i].events);
  }
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_.get(), &one, sizeof one);
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_.get(), &one, sizeof one);
}

}  // namespace vigil

// A single-threaded epoll loop for control-plane I/O: sockets, signalfd, timers.
// Everything registered runs on the thread that calls run(); only stop() and post() are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "common/unique_fd.h"

namespace vigil {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t events)>;

  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool valid() const { return epoll_.valid() && wake_.valid(); }

  // Watches `fd` for `events` (EPOLLIN, EPOLLOUT, ...). The fd stays owned by the caller and
  // must be removed before it is closed.
  Status add(int fd, uint32_t events, Callback callback);
  Status modify(int fd, uint32_t events);
  void remove(int fd);

  // Calls `callback` every `interval` until the loop is destroyed. Returns the timer's fd
  // (owned by the loop) so it can be removed.
  Expected<int> add_timer(std::chrono::milliseconds interval, std::function<void()> callback);

  // Dispatches events until stop(). Returns at once if stop() was already called.
  void run();
  // Dispatches what is ready within `timeout_ms` (-1 waits), then returns.
  void run_once(int timeout_ms);
  // Safe from any thread and from signal-driven callbacks.
  void stop();
  // Runs `task` on the loop's thread, soon (in the order posted). Safe from any thread: how
  // work done elsewhere (a call to a slow component) hands its result back.
  void post(std::function<void()> task);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

 private:
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd that stop() and post() write so epoll_wait returns
  std::unordered_map<int, std::shared_ptr<Callback>> callbacks_;
  std::vector<UniqueFd> timers_;
  std::atomic<bool> stopping_{false};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace vigil

// One worker's event loop: epoll, edge-triggered, with the object to call in each event's
// data (no lookup per event), a timing wheel for timeouts, and a mailbox other threads post
// to (config changes, stop). Handlers closed while a batch of events is dispatched are kept
// until the batch ends, so an event still queued for one finds it marked closed rather than
// freed. Not thread-safe except post() and stop().
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/expected.h"
#include "common/unique_fd.h"
#include "l7proxy/core/timer_wheel.h"

namespace vigil::l7 {

class Pollable {
 public:
  virtual ~Pollable() = default;
  virtual void on_events(uint32_t events) = 0;
};

class Reactor {
 public:
  using Clock = std::chrono::steady_clock;

  Reactor();
  // What was retired and not reaped yet goes first, while the wheel its timers are in lives.
  ~Reactor() { reap(); }
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  bool valid() const { return epoll_.valid() && wake_.valid(); }

  // Edge-triggered: the handler reads and writes until EAGAIN.
  Status watch(int fd, uint32_t events, Pollable* handler);
  void unwatch(int fd);

  // Destroyed once the current batch of events is through.
  void retire(std::unique_ptr<Pollable> handler) { graveyard_.push_back(std::move(handler)); }
  // Destroys what was retired (the loop does after each batch; its owner once it stopped).
  // What is destroyed may retire more (an HTTP/2 upstream its socket): reaped too.
  void reap() {
    while (!graveyard_.empty()) {
      std::vector<std::unique_ptr<Pollable>> dead;
      dead.swap(graveyard_);
    }
  }

  TimerWheel& timers() { return timers_; }
  // The time as of this batch: read once per wake-up, not per connection.
  Clock::time_point now() const { return now_; }

  // Runs until stop(); each turn dispatches events, then timers, then posted tasks.
  void run();
  void stop();
  void post(std::function<void()> task);

 private:
  void drain_posted();

  UniqueFd epoll_;
  UniqueFd wake_;
  TimerWheel timers_;
  Clock::time_point now_;
  std::vector<std::unique_ptr<Pollable>> graveyard_;
  std::atomic<bool> stopping_{false};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace vigil::l7

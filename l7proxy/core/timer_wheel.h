// Timeouts for thousands of connections on one worker: a hashed timing wheel (Varghese and
// Lauck) of 10 ms ticks. Arming, re-arming and cancelling are O(1) and allocate nothing (the
// timer is a node inside the connection), which matters because a connection re-arms its idle
// timeout on every read. A timeout fires within a tick of its due time, never early.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace vigil::l7 {

class TimerWheel;

class Timer {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  virtual ~Timer();

  bool armed() const { return wheel_ != nullptr; }

 protected:
  virtual void on_timer() = 0;

 private:
  friend class TimerWheel;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  uint64_t due_ = 0;      // the tick it fires at
  bool expired_ = false;  // in the wheel's list of those firing now, not in a slot
};

class TimerWheel {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTick{10};
  static constexpr size_t kSlots = 1024;  // about ten seconds per turn

  explicit TimerWheel(Clock::time_point now);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)arms `t` to fire once `after` has passed since `now`.
  void arm(Timer& t, Clock::duration after, Clock::time_point now);
  void cancel(Timer& t);
  // Fires every timer due by `now` (a fired timer may arm or cancel any timer, or destroy
  // itself). Returns how many fired.
  size_t advance(Clock::time_point now);
  // How long the event loop may sleep: until the tick of the next slot holding a timer.
  std::optional<std::chrono::milliseconds> wait(Clock::time_point now) const;
  size_t armed() const { return armed_; }

 private:
  uint64_t tick_of(Clock::time_point t) const;
  void link(Timer& t);
  void unlink(Timer& t);
  Timer*& head_of(Timer& t) { return t.expired_ ? expired_ : slots_[t.due_ % kSlots]; }

  Clock::time_point origin_;
  uint64_t current_ = 0;  // every tick up to this one has been fired
  size_t armed_ = 0;
  std::vector<Timer*> slots_;  // heads of doubly linked lists
  Timer* expired_ = nullptr;   // due this tick, fired one at a time
};

}  // namespace vigil::l7

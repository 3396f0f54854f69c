#include "l7proxy/core/timer_wheel.h"

namespace vigil::l7 {

Timer::~Timer() {
  if (wheel_ != nullptr) {
    wheel_->cancel(*this);
  }
}

TimerWheel::TimerWheel(Clock::time_point now) : origin_(now), slots_(kSlots, nullptr) {}

TimerWheel::~TimerWheel() {
  slots_.push_back(expired_);
  for (Timer* head : slots_) {
    for (Timer* t = head; t != nullptr;) {
      Timer* next = t->next_;
      t->wheel_ = nullptr;
      t->prev_ = t->next_ = nullptr;
      t = next;
    }
  }
}

uint64_t TimerWheel::tick_of(Clock::time_point t) const {
  if (t <= origin_) {
    return 0;
  }
  return static_cast<uint64_t>((t - origin_) / kTick);
}

void TimerWheel::link(Timer& t) {
  Timer*& head = head_of(t);
  t.prev_ = nullptr;
  t.next_ = head;
  if (head != nullptr) {
    head->prev_ = &t;
  }
  head = &t;
}

void TimerWheel::unlink(Timer& t) {
  if (t.prev_ != nullptr) {
    t.prev_->next_ = t.next_;
  } else {
    head_of(t) = t.next_;
  }
  if (t.next_ != nullptr) {
    t.next_->prev_ = t.prev_;
  }
  t.prev_ = t.next_ = nullptr;
}

void TimerWheel::arm(Timer& t, Clock::duration after, Clock::time_point now) {
  if (t.wheel_ != nullptr) {
    cancel(t);
  }
  // Rounded up, and at least the tick after the current: never early.
  const uint64_t ticks = static_cast<uint64_t>((after + kTick - Clock::duration(1)) / kTick);
  const uint64_t due = tick_of(now) + (ticks == 0 ? 1 : ticks) + 1;
  t.due_ = due > current_ ? due : current_ + 1;
  t.wheel_ = this;
  t.expired_ = false;
  link(t);
  ++armed_;
}

void TimerWheel::cancel(Timer& t) {
  if (t.wheel_ != this) {
    return;
  }
  unlink(t);
  t.wheel_ = nullptr;
  --armed_;
}

size_t TimerWheel::advance(Clock::time_point now) {
  const uint64_t target = tick_of(now);
  size_t fired = 0;
  // After a long stall every slot is visited once, not every tick missed.
  uint64_t from = current_ + 1;
  if (target > current_ + kSlots) {
    from = target - kSlots + 1;
  }
  for (uint64_t tick = from; tick <= target && armed_ > 0; ++tick) {
    current_ = tick;
    // What is due moves to the expired list, then fires one at a time: a callback may cancel
    // or destroy any timer, the next due one included, and cancel() unlinks it from there.
    for (Timer* t = slots_[tick % kSlots]; t != nullptr;) {
      Timer* next = t->next_;
      if (t->due_ <= tick) {
        unlink(*t);
        t->expired_ = true;
        link(*t);
      }
      t = next;
    }
    while (expired_ != nullptr) {
      Timer* t = expired_;
      unlink(*t);
      t->expired_ = false;
      t->wheel_ = nullptr;
      --armed_;
      ++fired;
      t->on_timer();
    }
  }
  current_ = target > current_ ? target : current_;
  return fired;
}

std::optional<std::chrono::milliseconds> TimerWheel::wait(Clock::time_point now) const {
  if (armed_ == 0) {
    return std::nullopt;
  }
  // Until the first slot holding a timer (it may be for a later turn: then this wakes early,
  // finds nothing due and waits again). A worker with only far timers sleeps, not ticks.
  uint64_t ticks = kSlots;
  for (uint64_t t = 1; t <= kSlots; ++t) {
    if (slots_[(current_ + t) % kSlots] != nullptr) {
      ticks = t;
      break;
    }
  }
  const auto next = origin_ + kTick * static_cast<int64_t>(current_ + ticks);
  if (next <= now) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::ceil<std::chrono::milliseconds>(next - now);
}

}  // namespace vigil::l7

// Threads that run blocking work for a single-threaded daemon (a call to a component that may
// take seconds), so its event loop goes on serving everyone else. Jobs run in the order
// submitted, at most `threads` at a time; one thread makes a serial queue (vigild's commits).
// The queue is bounded: submit() refuses past it rather than let callers pile up work. The
// destructor finishes the running jobs, drops those not started, and joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when `max_queued` jobs already wait (the job is not taken).
  bool submit(std::function<void()> job);
  // Jobs waiting or running.
  size_t pending() const;

 private:
  void run();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil

#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "common/event_loop.h"

namespace vigil {
namespace {

TEST(WorkerPool, OneThreadRunsJobsInOrder) {
  std::vector<int> order;
  std::mutex m;
  std::promise<void> last;
  {
    WorkerPool pool(1, 16);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(pool.submit([&, i] {
        std::lock_guard lock(m);
        order.push_back(i);
        if (i == 9) {
          last.set_value();
        }
      }));
    }
    last.get_future().wait();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WorkerPool, AFullQueueRefusesAndTheDestructorDropsWhatNeverStarted) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 2);
    ASSERT_TRUE(pool.submit([&] {
      started.set_value();
      released.wait();
      ++ran;
    }));
    started.get_future().wait();  // running: the queue is empty again
    EXPECT_TRUE(pool.submit([&] { ++ran; }));
    EXPECT_TRUE(pool.submit([&] { ++ran; }));
    EXPECT_FALSE(pool.submit([&] { ++ran; })) << "two waiting already";
    EXPECT_EQ(pool.pending(), 3u);
    release.set_value();
    // The destructor lets the running job finish; what it has not started may be dropped.
  }
  EXPECT_GE(ran.load(), 1);
  EXPECT_LE(ran.load(), 3);
}

TEST(EventLoop, PostedTasksRunOnTheLoopsThreadInOrder) {
  EventLoop loop;
  std::vector<int> order;
  std::thread::id ran_on;
  std::thread poster([&] {
    for (int i = 0; i < 3; ++i) {
      loop.post([&, i] {
        order.push_back(i);
        ran_on = std::this_thread::get_id();
        if (i == 2) {
          loop.stop();
        }
      });
    }
  });
  loop.run();
  poster.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace vigil

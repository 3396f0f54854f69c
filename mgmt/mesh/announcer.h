// Tells the other members of the mesh what changed here (a site joined, was revoked, left):
// one TLS request to each, on its own, in parallel, so one member down delays nobody else.
// A member that cannot be reached is tried again after 1, 2, 4 ... 60 s, for a day; one that
// refuses (its answer says why) is not asked again. Kept in memory only: a restart of vigild
// forgets what was still to be delivered (docs/operations.md says how to catch a site up).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"
#include "common/key_base64.h"
#include "common/worker_pool.h"
#include "sdwan/enrol/identity.h"

namespace vigil::mgmt::mesh {

struct Delivery {
  std::string site;                   // the member told
  std::vector<std::string> contacts;  // its enrolment service, "host:port" each
  Key32 identity{};                   // pinned
  nlohmann::json message;
  std::string what;  // "s4 joined", for the log
};

// One request and its answer: the answer, or why there is none. An answer with "error" is a
// refusal (Status fails with its message, and `refused` is set).
Expected<nlohmann::json> deliver_once(const Delivery& d, const enrol::Identity& me,
                                      std::chrono::milliseconds budget, bool& refused);

class Announcer {
 public:
  using Clock = std::chrono::steady_clock;
  // `done` runs on a worker thread once a delivery is over: ok, refused, or given up.
  using Done = std::function<void(const Delivery&, const Status&)>;
  static constexpr size_t kMaxQueued = 256;
  static constexpr std::chrono::seconds kGiveUpAfter{24 * 3600};

  Announcer(std::shared_ptr<const enrol::Identity> me, Done done);
  ~Announcer();
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // False when kMaxQueued deliveries wait already.
  bool send(Delivery d);
  size_t pending() const;

 private:
  struct Item {
    Delivery delivery;
    Clock::time_point due;
    Clock::time_point first;
    int attempts = 0;
  };
  void schedule_loop();
  void attempt(Item item);

  std::shared_ptr<const enrol::Identity> me_;
  Done done_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Item> waiting_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::unique_ptr<WorkerPool> workers_;
  std::thread scheduler_;
};

}  // namespace vigil::mgmt::mesh

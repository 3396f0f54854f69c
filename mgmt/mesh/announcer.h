// Tells the other members of the mesh what changed here (a site joined, was revoked, left):
// one TLS request to each, the members in parallel, so one member down delays nobody else;
// what goes to one member goes in order (a revocation never overtakes the join before it).
// A member that cannot be reached, answers "busy" (its commit worker full, a commit
// confirmed waiting) or does not know this site yet, is tried again after 1, 2, 4 ... 60 s, for a
// day; one that refuses for good (its answer says why) is not asked again. Kept in memory only: a
// restart of vigild forgets what was still to be delivered (docs/operations.md says how to catch a
// site up).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"
#include "common/key_base64.h"
#include "common/worker_pool.h"
#include "sdwan/enrol/identity.h"

namespace vigil::mgmt::mesh {

// The refusal reason a member gives when it may take the same request later.
inline constexpr std::string_view kBusyReason = "busy";
// Answers a member or issuer sends back: a join's member list can be large.
inline constexpr size_t kMaxAnswerBytes = size_t{1} << 20;

struct Delivery {
  std::string site;                   // the member told
  std::vector<std::string> contacts;  // its enrolment service, "host:port" each
  Key32 identity{};                   // pinned
  nlohmann::json message;
  std::string what;  // "s4 joined", for the log
};

struct DeliveryOutcome {
  bool refused = false;    // the other side answered with an error
  bool temporary = false;  // ... one it may not give next time (kBusyReason)
  std::string reason;      // its reason
};

// One request and its answer: the answer, or why there is none.
Expected<nlohmann::json> deliver_once(const Delivery& d, const enrol::Identity& me,
                                      std::chrono::milliseconds budget, DeliveryOutcome& outcome,
                                      const std::atomic<bool>* cancel = nullptr);

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
    uint64_t seq = 0;  // order of sending: per member, the lowest goes first
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
  std::set<std::string> in_flight_;  // members with a request under way
  uint64_t next_seq_ = 0;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // set when stopping: requests under way give up
  std::unique_ptr<WorkerPool> workers_;
  std::thread scheduler_;
};

}  // namespace vigil::mgmt::mesh

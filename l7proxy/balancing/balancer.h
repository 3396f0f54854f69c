// How an upstream pool picks the backend for a request. Each policy is one file that
// registers itself here by name (round-robin, least-connections, power-of-two,
// maglev, peak-ewma). A worker thread has its own balancer per pool, so nothing is locked on
// the request path, and what a balancer knows of load is its own worker's: the requests it
// has in flight, the latencies it has seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::l7 {

using BalancerClock = std::chrono::steady_clock;

struct BackendInfo {
  std::string key;  // a stable identity ("10.0.0.5:8080"): consistent hashing keys on it
  uint32_t weight = 1;
};

struct PickInput {
  uint64_t hash = 0;  // of the request's affinity key (a field, a cookie, the source address)
  BalancerClock::time_point now{};
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // The index of a backend that `usable` allows (healthy, not ejected), or nothing when it
  // allows none. `usable` has one entry per backend the balancer was made with.
  virtual std::optional<size_t> pick(const PickInput& in, const std::vector<bool>& usable) = 0;
  // A request to `backend` went out; it ended, its response taking `latency` (the time from
  // the request sent to the response's head).
  virtual void started(size_t backend) { (void)backend; }
  virtual void finished(size_t backend, BalancerClock::duration latency,
                        BalancerClock::time_point now) {
    (void)backend, (void)latency, (void)now;
  }
};

// `seed` seeds a policy's random draws (a different one per worker); maglev's table takes a
// fixed seed of its own, the same everywhere.
using BalancerFactory =
    std::function<std::unique_ptr<Balancer>(std::span<const BackendInfo> backends, uint64_t seed)>;

// Called once per policy, by a static object in its file; false when the name is taken.
bool register_balancer(std::string_view name, BalancerFactory factory);
// Nothing (nullptr) for a name no policy registered.
std::unique_ptr<Balancer> make_balancer(std::string_view name,
                                        std::span<const BackendInfo> backends, uint64_t seed);
std::vector<std::string> balancer_names();  // sorted

// What the load-aware policies share: each backend's requests in flight, and a cheap random
// source (xorshift64*, seeded: the same seed picks the same way in a test).
class LoadAwareBalancer : public Balancer {
 public:
  LoadAwareBalancer(std::span<const BackendInfo> backends, uint64_t seed);
  void started(size_t backend) override { ++active_.at(backend); }
  void finished(size_t backend, BalancerClock::duration latency,
                BalancerClock::time_point now) override;

 protected:
  uint64_t random();
  // Two distinct usable backends drawn at random (one when only one is usable).
  std::optional<std::pair<size_t, size_t>> two_usable(const std::vector<bool>& usable);

  std::vector<BackendInfo> backends_;
  std::vector<uint32_t> active_;

 private:
  uint64_t state_;
  std::vector<size_t> candidates_;
};

}  // namespace vigil::l7

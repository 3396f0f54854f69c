// peak-ewma: latency-aware (Finagle's): each backend's latency is a moving average that jumps
// to a slower sample at once and decays with time (over about 10 s), between samples too; the
// cost of a backend is that latency times its requests in flight plus one, and of two
// backends drawn at random the cheaper is taken. A backend not heard from yet costs what the
// slowest usable known one does, so a new one is tried without being flooded.
#include <cmath>

#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

constexpr double kDecaySeconds = 10.0;

class PeakEwma final : public LoadAwareBalancer {
 public:
  PeakEwma(std::span<const BackendInfo> backends, uint64_t seed)
      : LoadAwareBalancer(backends, seed), latency_(backends.size()) {}

  std::optional<size_t> pick(const PickInput& in, const std::vector<bool>& usable) override {
    const auto two = two_usable(usable);
    if (!two) {
      return std::nullopt;
    }
    const auto [a, b] = *two;
    return cost(b, in.now, usable) < cost(a, in.now, usable) ? b : a;
  }

  void finished(size_t backend, BalancerClock::duration latency,
                BalancerClock::time_point now) override {
    LoadAwareBalancer::finished(backend, latency, now);
    Latency& l = latency_.at(backend);
    const double sample = std::chrono::duration<double>(latency).count();
    if (!l.known || sample > l.ewma) {
      l.ewma = sample;  // the peak: slower at once
    } else {
      const double elapsed = std::chrono::duration<double>(now - l.at).count();
      const double w = std::exp(-std::max(elapsed, 0.0) / kDecaySeconds);
      l.ewma = l.ewma * w + sample * (1 - w);
    }
    l.known = true;
    l.at = now;
  }

 private:
  struct Latency {
    bool known = false;
    double ewma = 0;  // seconds
    BalancerClock::time_point at{};
  };

  // The latency as of `now`: it decays between samples too, so a backend avoided since one
  // slow answer is tried again as it ages (Finagle reads it so).
  double latency_at(const Latency& l, BalancerClock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - l.at).count();
    return l.ewma * std::exp(-std::max(elapsed, 0.0) / kDecaySeconds);
  }

  double cost(size_t i, BalancerClock::time_point now, const std::vector<bool>& usable) const {
    double latency = 0;
    if (latency_[i].known) {
      latency = latency_at(latency_[i], now);
    } else {
      for (size_t k = 0; k < latency_.size() && k < usable.size(); ++k) {
        if (usable[k] && latency_[k].known) {  // the slowest of those that may be picked
          latency = std::max(latency, latency_at(latency_[k], now));
        }
      }
    }
    // Nothing known yet: the requests in flight still count.
    return (latency > 0 ? latency : 1e-9) * (active_[i] + 1);
  }

  std::vector<Latency> latency_;
};

const bool kRegistered =
    register_balancer("peak-ewma", [](std::span<const BackendInfo> backends, uint64_t seed) {
      return std::make_unique<PeakEwma>(backends, seed);
    });

}  // namespace
}  // namespace vigil::l7

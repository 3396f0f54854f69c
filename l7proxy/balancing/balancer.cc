#include "l7proxy/balancing/balancer.h"

#include <map>
#include <mutex>

namespace vigil::l7 {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, BalancerFactory, std::less<>> factories;
};

Registry& registry() {
  static Registry r;  // made on first use: the policies' static objects may come first
  return r;
}

}  // namespace

bool register_balancer(std::string_view name, BalancerFactory factory) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  return r.factories.emplace(std::string(name), std::move(factory)).second;
}

std::unique_ptr<Balancer> make_balancer(std::string_view name,
                                        std::span<const BackendInfo> backends, uint64_t seed) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  const auto it = r.factories.find(name);
  return it == r.factories.end() ? nullptr : it->second(backends, seed);
}

std::vector<std::string> balancer_names() {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) {
    names.push_back(name);
  }
  return names;
}

LoadAwareBalancer::LoadAwareBalancer(std::span<const BackendInfo> backends, uint64_t seed)
    : backends_(backends.begin(), backends.end()),
      active_(backends.size(), 0),
      state_(seed != 0 ? seed : 0x9e3779b97f4a7c15ull) {}

void LoadAwareBalancer::finished(size_t backend, BalancerClock::duration,
                                 BalancerClock::time_point) {
  if (active_.at(backend) > 0) {
    --active_[backend];
  }
}

uint64_t LoadAwareBalancer::random() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545f4914f6cdd1dull;
}

std::optional<std::pair<size_t, size_t>> LoadAwareBalancer::two_usable(
    const std::vector<bool>& usable) {
  candidates_.clear();  // its room stays: no allocation once grown to the pool
  for (size_t i = 0; i < usable.size() && i < backends_.size(); ++i) {
    if (usable[i] && backends_[i].weight > 0) {
      candidates_.push_back(i);
    }
  }
  if (candidates_.empty()) {
    return std::nullopt;
  }
  const size_t n = candidates_.size();
  const size_t a = random() % n;
  size_t b = n > 1 ? random() % (n - 1) : a;
  if (n > 1 && b >= a) {
    ++b;  // distinct from a
  }
  return std::pair{candidates_[a], candidates_[b]};
}

}  // namespace vigil::l7

// least-connections: the usable backend with the fewest requests in flight for its weight
// (active / weight, compared without division); among equals, the next after the last
// picked, so an idle pool is still shared round the backends.
#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

class LeastConnections final : public LoadAwareBalancer {
 public:
  using LoadAwareBalancer::LoadAwareBalancer;

  std::optional<size_t> pick(const PickInput&, const std::vector<bool>& usable) override {
    const size_t n = std::min(usable.size(), backends_.size());
    std::optional<size_t> best;
    for (size_t k = 1; k <= n; ++k) {
      const size_t i = (last_ + k) % n;
      if (!usable[i] || backends_[i].weight == 0) {
        continue;
      }
      // active_i / w_i < active_b / w_b, in integers.
      if (!best || uint64_t{active_[i]} * backends_[*best].weight <
                       uint64_t{active_[*best]} * backends_[i].weight) {
        best = i;
      }
    }
    if (best) {
      last_ = *best;
    }
    return best;
  }

 private:
  size_t last_ = 0;
};

const bool kRegistered = register_balancer(
    "least-connections", [](std::span<const BackendInfo> backends, uint64_t seed) {
      return std::make_unique<LeastConnections>(backends, seed);
    });

}  // namespace
}  // namespace vigil::l7

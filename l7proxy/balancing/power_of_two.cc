// power-of-two: two usable backends drawn at random, the one with fewer requests in flight for
// its weight taken (Mitzenmacher's power of two choices): nearly least-connections' balance
// without its herd, where every worker sends its next request to the same emptiest backend.
#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

class PowerOfTwo final : public LoadAwareBalancer {
 public:
  using LoadAwareBalancer::LoadAwareBalancer;

  std::optional<size_t> pick(const PickInput&, const std::vector<bool>& usable) override {
    const auto two = two_usable(usable);
    if (!two) {
      return std::nullopt;
    }
    const auto [a, b] = *two;
    return uint64_t{active_[b]} * backends_[a].weight < uint64_t{active_[a]} * backends_[b].weight
               ? b
               : a;
  }
};

const bool kRegistered =
    register_balancer("power-of-two", [](std::span<const BackendInfo> backends, uint64_t seed) {
      return std::make_unique<PowerOfTwo>(backends, seed);
    });

}  // namespace
}  // namespace vigil::l7

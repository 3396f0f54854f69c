// round-robin: smooth weighted round robin (nginx's): each pick, every usable backend gains
// its weight, the one with the most is picked and pays back the total. Weights 5, 1, 1 give
// a a b a c a a: the heavy backend's turns are spread, never bunched.
#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(std::span<const BackendInfo> backends)
      : backends_(backends.begin(), backends.end()), current_(backends.size(), 0) {}

  std::optional<size_t> pick(const PickInput&, const std::vector<bool>& usable) override {
    std::optional<size_t> best;
    int64_t total = 0;
    for (size_t i = 0; i < backends_.size() && i < usable.size(); ++i) {
      if (!usable[i] || backends_[i].weight == 0) {
        continue;
      }
      current_[i] += backends_[i].weight;
      total += backends_[i].weight;
      if (!best || current_[i] > current_[*best]) {
        best = i;
      }
    }
    if (best) {
      current_[*best] -= total;
    }
    return best;
  }

 private:
  std::vector<BackendInfo> backends_;
  std::vector<int64_t> current_;
};

const bool kRegistered =
    register_balancer("round-robin", [](std::span<const BackendInfo> backends, uint64_t) {
      return std::make_unique<RoundRobin>(backends);
    });

}  // namespace
}  // namespace vigil::l7

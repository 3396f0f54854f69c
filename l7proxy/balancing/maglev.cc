// maglev: consistent hashing (common/maglev.h): a request's affinity key (a field, a cookie,
// the source address: PickInput::hash) always reaches the same backend while the usable set
// stays; when a backend goes (unhealthy, ejected) only its own keys move. The table is rebuilt
// only when the usable set changes.
#include "common/maglev.h"

#include "l7proxy/balancing/balancer.h"

namespace vigil::l7 {
namespace {

// Prime, and well over 100 x the backends of a pool (Maglev's advice).
constexpr uint32_t kTableSize = 65537;
// The same table in every worker and on every appliance, whatever seed the others use: a key
// must find the same backend whichever worker takes its connection.
constexpr uint32_t kTableSeed = 0x76696731;

class Maglev final : public Balancer {
 public:
  explicit Maglev(std::span<const BackendInfo> backends)
      : backends_(backends.begin(), backends.end()) {}

  std::optional<size_t> pick(const PickInput& in, const std::vector<bool>& usable) override {
    if (usable != built_for_) {
      rebuild(usable);
    }
    if (table_.empty()) {
      return std::nullopt;
    }
    return index_of_[table_[in.hash % table_.size()]];
  }

 private:
  void rebuild(const std::vector<bool>& usable) {
    built_for_ = usable;
    std::vector<MaglevBackend> in;
    index_of_.clear();
    for (size_t i = 0; i < backends_.size() && i < usable.size(); ++i) {
      if (usable[i] && backends_[i].weight > 0) {
        in.push_back({backends_[i].key, backends_[i].weight});
        index_of_.push_back(i);
      }
    }
    table_ = build_maglev_table(in, kTableSize, kTableSeed);
  }

  std::vector<BackendInfo> backends_;
  std::vector<bool> built_for_;
  std::vector<size_t> index_of_;  // table entry -> backend index
  std::vector<uint32_t> table_;
};

const bool kRegistered =
    register_balancer("maglev", [](std::span<const BackendInfo> backends, uint64_t) {
      return std::make_unique<Maglev>(backends);
    });

}  // namespace
}  // namespace vigil::l7

// MapAccess over a loaded libbpf object: the real kernel boundary.
#pragma once

#include <array>

#include "ebpf/loader/map_access.h"

struct bpf_object;

namespace vigil::ebpf {

class BpfMaps final : public MapAccess {
 public:
  // Looks every map of the classifier up by name; fails naming the first one missing.
  static Expected<BpfMaps> from_object(bpf_object* object);

  Status update(MapId map, std::span<const uint8_t> key, std::span<const uint8_t> value) override;
  Status fill_array(MapId map, uint32_t first, std::span<const uint32_t> values) override;
  Status remove(MapId map, std::span<const uint8_t> key) override;
  Bytes lookup(MapId map, std::span<const uint8_t> key) override;
  std::vector<std::pair<Bytes, Bytes>> dump(MapId map) override;
  int cpus() const override { return cpus_; }

  int fd(MapId map) const { return maps_[static_cast<int>(map)].fd; }

 private:
  struct Map {
    int fd = -1;
    uint32_t key_size = 0;
    uint32_t value_size = 0;  // all CPUs' values for a per-CPU map
    bool per_cpu = false;
  };
  std::array<Map, kMapCount> maps_{};
  int cpus_ = 1;
};

}  // namespace vigil::ebpf

// MapAccess in memory, with a log of writes in order, for planner and counter tests.
#pragma once

#include <map>
#include <string>

#include "ebpf/loader/map_access.h"

namespace vigil::ebpf::test {

class FakeMaps final : public MapAccess {
 public:
  explicit FakeMaps(int cpus = 2) : cpus_(cpus) {}

  Status update(MapId map, std::span<const uint8_t> key, std::span<const uint8_t> value) override {
    if (fail_on == map) {
      return fail("injected failure");
    }
    maps[static_cast<int>(map)][Bytes(key.begin(), key.end())] = Bytes(value.begin(), value.end());
    log.push_back(std::string("update ") + map_name(map));
    return Ok{};
  }
  Status fill_array(MapId map, uint32_t first, std::span<const uint32_t> values) override {
    for (uint32_t i = 0; i < values.size(); ++i) {
      maps[static_cast<int>(map)][bytes_of(first + i)] = bytes_of(values[i]);
    }
    log.push_back(std::string("fill ") + map_name(map) + " " + std::to_string(first));
    return Ok{};
  }
  Status remove(MapId map, std::span<const uint8_t> key) override {
    maps[static_cast<int>(map)].erase(Bytes(key.begin(), key.end()));
    log.push_back(std::string("remove ") + map_name(map));
    return Ok{};
  }
  Bytes lookup(MapId map, std::span<const uint8_t> key) override {
    const auto& m = maps[static_cast<int>(map)];
    const auto it = m.find(Bytes(key.begin(), key.end()));
    return it == m.end() ? Bytes{} : it->second;
  }
  std::vector<std::pair<Bytes, Bytes>> dump(MapId map) override {
    const auto& m = maps[static_cast<int>(map)];
    return {m.begin(), m.end()};
  }
  int cpus() const override { return cpus_; }

  const std::map<Bytes, Bytes>& at(MapId map) const { return maps[static_cast<int>(map)]; }

  std::array<std::map<Bytes, Bytes>, kMapCount> maps;
  std::vector<std::string> log;
  std::optional<MapId> fail_on;

 private:
  int cpus_;
};

}  // namespace vigil::ebpf::test

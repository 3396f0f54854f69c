#include "ebpf/loader/counters.h"

#include <cstddef>
#include <cstring>

#include "parse_host.h"
#include "vigil/classifier_types.h"

namespace vigil::ebpf {
namespace {

// Sums a per-CPU value of `Fields` u64 counters.
template <size_t Fields>
std::array<uint64_t, Fields> sum(const Bytes& per_cpu, int cpus) {
  std::array<uint64_t, Fields> total{};
  constexpr size_t kStride = Fields * sizeof(uint64_t);
  for (int cpu = 0; cpu < cpus && (static_cast<size_t>(cpu) + 1) * kStride <= per_cpu.size();
       ++cpu) {
    for (size_t f = 0; f < Fields; ++f) {
      uint64_t v;
      std::memcpy(&v, per_cpu.data() + cpu * kStride + f * sizeof(uint64_t), sizeof(v));
      total[f] += v;
    }
  }
  return total;
}

Count counter_at(MapAccess& maps, MapId map, uint32_t index) {
  const auto v = sum<2>(maps.lookup(map, bytes_of(index)), maps.cpus());
  return {.packets = v[0], .bytes = v[1]};
}

}  // namespace

const char* verdict_name(int verdict) {
  static const char* const kNames[] = {
#define VIGIL_X(name, text) text,
      VIGIL_VERDICTS(VIGIL_X)
#undef VIGIL_X
  };
  return verdict >= 0 && verdict < VIGIL_VERDICT_COUNT ? kNames[verdict] : "unknown";
}

const char* event_name(int event) {
  static const char* const kNames[] = {
#define VIGIL_X(name, text) text,
      VIGIL_EVENTS(VIGIL_X)
#undef VIGIL_X
  };
  return event >= 0 && event < VIGIL_EVENT_COUNT ? kNames[event] : "unknown";
}

uint64_t ClassifierCounters::packets() const {
  uint64_t total = 0;
  for (const auto& v : verdicts) {
    total += v.count.packets;
  }
  return total;
}

Count ClassifierCounters::verdict(const std::string& name) const {
  for (const auto& v : verdicts) {
    if (v.name == name) {
      return v.count;
    }
  }
  return {};
}

ClassifierCounters read_counters(MapAccess& maps, const ClassifierState& state) {
  ClassifierCounters out;
  // stats[0]: a struct vigil_stats per CPU, summed word by word.
  const auto stats = sum<sizeof(vigil_stats) / sizeof(uint64_t)>(
      maps.lookup(MapId::kStats, bytes_of(uint32_t{0})), maps.cpus());
  auto counter = [&](size_t array_offset, int index) {
    const size_t word = (array_offset + index * sizeof(vigil_counter)) / sizeof(uint64_t);
    return Count{.packets = stats[word], .bytes = stats[word + 1]};
  };
  for (int i = 0; i < VIGIL_VERDICT_COUNT; ++i) {
    out.verdicts.push_back({verdict_name(i), counter(offsetof(vigil_stats, verdict), i)});
  }
  // Index 0 is "ok": never a drop reason.
  for (int i = 1; i < VIGIL_PARSE_RESULT_COUNT; ++i) {
    out.malformed.push_back(
        {vigil_parse_result_name(i), counter(offsetof(vigil_stats, malformed), i)});
  }
  for (int i = 0; i < VIGIL_EVENT_COUNT; ++i) {
    out.events.push_back({event_name(i), counter(offsetof(vigil_stats, event), i)});
  }
  const auto& rules = state.acl_rule_names();
  for (uint32_t i = 0; i < rules.size(); ++i) {
    out.acl_rules.push_back({rules[i].empty() ? "rule " + std::to_string(i) : rules[i],
                             counter_at(maps, MapId::kAclStats, i)});
  }
  const auto& policers = state.policer_names();
  for (uint32_t i = 0; i < policers.size(); ++i) {
    const auto v = sum<4>(maps.lookup(MapId::kPolicerStats, bytes_of(i)), maps.cpus());
    out.policers.push_back(
        {.name = policers[i].empty() ? "policer " + std::to_string(i) : policers[i],
         .passed = {v[0], v[1]},
         .dropped = {v[2], v[3]}});
  }
  for (const auto& vip : state.vips()) {
    out.vips.push_back({vip.name, counter_at(maps, MapId::kVipStats, vip.index)});
  }
  for (const auto& b : state.backends()) {
    out.backends.push_back({.vip = b.vip,
                            .address = b.address.to_string(),
                            .count = counter_at(maps, MapId::kBackendStats, b.index)});
  }
  return out;
}

}  // namespace vigil::ebpf

#include "ebpf/loader/counters.h"

#include <cstddef>
#include <cstring>
#include <vector>

#include "parse_host.h"
#include "vigil/classifier_types.h"

namespace vigil::ebpf {
namespace {

// Sums a per-CPU value of `fields` u64 counters.
std::vector<uint64_t> sum(const Bytes& per_cpu, int cpus, size_t fields) {
  std::vector<uint64_t> total(fields, 0);
  const size_t stride = fields * sizeof(uint64_t);
  for (int cpu = 0; cpu < cpus && (static_cast<size_t>(cpu) + 1) * stride <= per_cpu.size();
       ++cpu) {
    for (size_t f = 0; f < fields; ++f) {
      uint64_t v;
      std::memcpy(&v, per_cpu.data() + cpu * stride + f * sizeof(uint64_t), sizeof(v));
      total[f] += v;
    }
  }
  return total;
}

// stats[0]: a struct vigil_stats per CPU, summed word by word.
class SummedStats {
 public:
  explicit SummedStats(MapAccess& maps)
      : words_(sum(maps.lookup(MapId::kStats, bytes_of(uint32_t{0})), maps.cpus(),
                   sizeof(vigil_stats) / sizeof(uint64_t))) {}

  // Element `index` of the vigil_counter array at `array_offset` in the record.
  Count at(size_t array_offset, uint32_t index) const {
    const size_t word = (array_offset + index * sizeof(vigil_counter)) / sizeof(uint64_t);
    return {.packets = words_[word], .bytes = words_[word + 1]};
  }

  Count of(CountedBy by, uint32_t index) const {
    return by == CountedBy::kVip ? at(offsetof(vigil_stats, vip), index)
                                 : at(offsetof(vigil_stats, backend), index);
  }

 private:
  std::vector<uint64_t> words_;
};

uint32_t base_index(CountedBy by, uint32_t index) {
  return by == CountedBy::kVip ? index : VIGIL_COUNTER_BASE_BACKEND + index;
}

// A missing base (maps from before the first restart_count) is zero. A base above the count
// can only come from a stats map recreated under old pinned bases: the count then reads as
// zero rather than wrapping round to a huge number.
Count since_base(MapAccess& maps, const SummedStats& stats, CountedBy by, uint32_t index) {
  const Count now = stats.of(by, index);
  const auto base = sum(maps.lookup(MapId::kCounterBases, bytes_of(base_index(by, index))), 1, 2);
  return {.packets = now.packets >= base[0] ? now.packets - base[0] : 0,
          .bytes = now.bytes >= base[1] ? now.bytes - base[1] : 0};
}

}  // namespace

Count counter_at(MapAccess& maps, MapId map, uint32_t index) {
  const auto v = sum(maps.lookup(map, bytes_of(index)), maps.cpus(), 2);
  return {.packets = v[0], .bytes = v[1]};
}

Count verdict_count(MapAccess& maps, int verdict) {
  if (verdict < 0 || verdict >= VIGIL_VERDICT_COUNT) {
    return {};
  }
  return SummedStats(maps).at(offsetof(vigil_stats, verdict), static_cast<uint32_t>(verdict));
}

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
  const SummedStats stats(maps);
  for (int i = 0; i < VIGIL_VERDICT_COUNT; ++i) {
    out.verdicts.push_back({verdict_name(i), stats.at(offsetof(vigil_stats, verdict), i)});
  }
  // Index 0 is "ok": never a drop reason.
  for (int i = 1; i < VIGIL_PARSE_RESULT_COUNT; ++i) {
    out.malformed.push_back(
        {vigil_parse_result_name(i), stats.at(offsetof(vigil_stats, malformed), i)});
  }
  for (int i = 0; i < VIGIL_EVENT_COUNT; ++i) {
    out.events.push_back({event_name(i), stats.at(offsetof(vigil_stats, event), i)});
  }
  const auto& rules = state.acl_rule_names();
  for (uint32_t i = 0; i < rules.size(); ++i) {
    out.acl_rules.push_back({rules[i].empty() ? "rule " + std::to_string(i) : rules[i],
                             counter_at(maps, MapId::kAclStats, i)});
  }
  const auto& policers = state.policer_names();
  for (uint32_t i = 0; i < policers.size(); ++i) {
    const auto v = sum(maps.lookup(MapId::kPolicerStats, bytes_of(i)), maps.cpus(), 4);
    out.policers.push_back(
        {.name = policers[i].empty() ? "policer " + std::to_string(i) : policers[i],
         .passed = {v[0], v[1]},
         .dropped = {v[2], v[3]}});
  }
  for (const auto& vip : state.vips()) {
    out.vips.push_back({vip.name, since_base(maps, stats, CountedBy::kVip, vip.index)});
  }
  for (const auto& b : state.backends()) {
    out.backends.push_back({.vip = b.vip,
                            .address = b.address.to_string(),
                            .count = since_base(maps, stats, CountedBy::kBackend, b.index)});
  }
  return out;
}

Status restart_count(MapAccess& maps, CountedBy by, uint32_t index) {
  const Count now = SummedStats(maps).of(by, index);
  const vigil_counter base{.packets = now.packets, .bytes = now.bytes};
  return maps.update(MapId::kCounterBases, bytes_of(base_index(by, index)), bytes_of(base));
}

}  // namespace vigil::ebpf

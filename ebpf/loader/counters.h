// The classifier's counters, summed over CPUs and named: by verdict, by malformation, by
// event, per ACL rule, per policer, per VIP and per backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/api/count.h"
#include "ebpf/loader/classifier_state.h"
#include "ebpf/loader/map_access.h"

namespace vigil::ebpf {

// The daemons' answers carry counts as they are summed here.
using Count = api::Count;

struct NamedCount {
  std::string name;
  Count count;
};

struct PolicerCount {
  std::string name;
  Count passed;
  Count dropped;
};

struct BackendCount {
  std::string vip;
  std::string address;
  Count count;
};

struct ClassifierCounters {
  std::vector<NamedCount> verdicts;   // every verdict, zero or not, in declaration order
  std::vector<NamedCount> malformed;  // every parse failure reason
  std::vector<NamedCount> events;
  std::vector<NamedCount> acl_rules;
  std::vector<PolicerCount> policers;
  std::vector<NamedCount> vips;
  std::vector<BackendCount> backends;

  uint64_t packets() const;  // all verdicts: every packet the program saw, once
  Count verdict(const std::string& name) const;
};

// Element `index` of a per-CPU array of struct vigil_counter, summed over the CPUs.
Count counter_at(MapAccess& maps, MapId map, uint32_t index);

// One verdict's count (VIGIL_VERDICT_*), summed over the CPUs.
Count verdict_count(MapAccess& maps, int verdict);

const char* verdict_name(int verdict);
const char* event_name(int event);

ClassifierCounters read_counters(MapAccess& maps, const ClassifierState& state);

// The stats record's per-VIP and per-backend counters are only ever added to by the program,
// so an index taken by a new VIP or backend starts from zero by a base: what the index holds
// now, written to counter_bases and subtracted by read_counters(). The map write's own error
// on failure.
enum class CountedBy { kVip, kBackend };
Status restart_count(MapAccess& maps, CountedBy by, uint32_t index);

}  // namespace vigil::ebpf

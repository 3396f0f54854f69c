// A packet and byte count, as every counter in the daemons' answers reads, and as the XDP
// classifier's loader sums its per-CPU counters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace vigil::api {

struct Count {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Count, packets, bytes)

}  // namespace vigil::api

// Fuzzes the reading of FRR's BGP JSON (bgp/frr/bgp_state.h) with whatever a vtysh answer could
// hold: the input is parsed as vigild parses it (nesting bounded), then read as the summary,
// the neighbours and a table. Nothing may throw, crash or list more routes than the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bgp/frr/bgp_state.h"
#include "common/json_bounded.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed =
      vigil::parse_json_bounded(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) {
    return 0;
  }
  const auto summary = vigil::bgp::bgp_summary_from(*parsed, *parsed);
  for (const auto& n : summary.neighbors) {
    if (n.address.empty() && !parsed->contains("")) {
      std::abort();  // a neighbour comes only from a key of the answer
    }
  }
  vigil::api::BgpRoutes routes;
  vigil::bgp::add_bgp_routes_from(*parsed, 3, routes);
  if (routes.routes.size() > 3 || routes.total < routes.routes.size() ||
      routes.truncated != (routes.total > 3)) {
    std::abort();
  }
  return 0;
}

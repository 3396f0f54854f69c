// BGP's state as FRR 8.4 reports it in JSON (`show bgp summary json`, `show bgp neighbors
// json`, `show bgp <family> unicast json`), turned into Vigil's answers (common/api/
// bgp_status.h). FRR's output is read as untrusted: a key missing or of another type gives the
// field's default, never an exception.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/api/bgp_status.h"

namespace vigil::bgp {

// From `show bgp summary json` (keyed by family, ipv4Unicast/ipv6Unicast) and `show bgp
// neighbors json` (keyed by neighbour): the router, the table sizes and every neighbour.
api::BgpSummary bgp_summary_from(const nlohmann::json& summary, const nlohmann::json& neighbors);

// The neighbours alone (the summary supplies why one is held down by configuration).
std::vector<api::BgpNeighborStatus> bgp_neighbors_from(const nlohmann::json& neighbors,
                                                       const nlohmann::json& summary);

// Appends the routes of one `show bgp <family> unicast [PREFIX longer-prefixes] json` answer
// to `out`, at most `limit` routes in all; past it, counts them in total and sets truncated.
void add_bgp_routes_from(const nlohmann::json& table, size_t limit, api::BgpRoutes& out);

// "ipv4Unicast" -> "ipv4-unicast" (Vigil's family names, as in the config).
std::string family_name(std::string_view frr_key);

}  // namespace vigil::bgp

// What vigild answers for `show bgp ...`, read from Vigil's FRR instance (bgp/frr/bgp_state.h
// turns FRR's JSON into these). Declared once for the producer and the CLI; every field has a
// default.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::api {

// One address family of a neighbour's session.
struct BgpFamilyCounts {
  std::string family;         // ipv4-unicast, ipv6-unicast
  uint64_t accepted = 0;      // prefixes received that passed the import policy
  uint64_t advertised = 0;    // prefixes sent
  uint64_t max_prefixes = 0;  // the configured limit; 0: none
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpFamilyCounts, family, accepted, advertised,
                                                max_prefixes)

struct BgpNeighborStatus {
  std::string address;
  std::string description;
  uint32_t remote_as = 0;
  uint32_t local_as = 0;
  std::string remote_router_id;
  // FRR's words: Idle, Connect, Active, OpenSent, OpenConfirm, Established, Clearing.
  std::string state;
  // Why a session is not up when that is configuration: "admin" (shut down), "max-prefix"
  // (went over its limit), "policy" (eBGP without import and export policy, RFC 8212). "".
  std::string held_by;
  int64_t established_ms = 0;  // up for; 0 unless Established
  std::vector<BgpFamilyCounts> families;
  uint64_t messages_received = 0, messages_sent = 0;
  uint64_t connections_established = 0, connections_dropped = 0;
  std::string last_reset;                      // why the session last went down ("" if never)
  int64_t hold_time_ms = 0, keepalive_ms = 0;  // negotiated
  std::string bfd;                             // "", or its status: Up, Down, Admin Down, Unknown
  std::string local_address, remote_address;   // "addr:port" of the TCP session
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpNeighborStatus, address, description, remote_as,
                                                local_as, remote_router_id, state, held_by,
                                                established_ms, families, messages_received,
                                                messages_sent, connections_established,
                                                connections_dropped, last_reset, hold_time_ms,
                                                keepalive_ms, bfd, local_address, remote_address)

struct BgpSummary {
  bool configured = false;  // routing.bgp is in the running config (FRR has a `router bgp`)
  std::string router_id;
  uint32_t local_as = 0;
  // FRR's "RIB entries" per family: its table's nodes, prefixes and the tree's own (an upper
  // bound on the prefixes).
  uint64_t routes_ipv4 = 0, routes_ipv6 = 0;
  std::vector<BgpNeighborStatus> neighbors;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpSummary, configured, router_id, local_as,
                                                routes_ipv4, routes_ipv6, neighbors)

struct BgpPathStatus {
  std::vector<std::string> next_hops;
  std::string as_path;  // "65002 65010"; "" for a route of this AS
  std::string origin;   // IGP, EGP, incomplete
  uint32_t local_pref = 0;
  uint32_t med = 0;
  std::string from;  // the neighbour it came from; "" when local
  bool best = false;
  bool multipath = false;
  bool valid = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpPathStatus, next_hops, as_path, origin,
                                                local_pref, med, from, best, multipath, valid)

struct BgpRouteStatus {
  std::string prefix;
  std::vector<BgpPathStatus> paths;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpRouteStatus, prefix, paths)

struct BgpRoutes {
  std::vector<BgpRouteStatus> routes;
  uint64_t total = 0;      // in the table, when more than those listed
  bool truncated = false;  // the listing stops at the limit asked for
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BgpRoutes, routes, total, truncated)

}  // namespace vigil::api

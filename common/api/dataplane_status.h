// What vigil-dp's `dataplane.show` answers (vigild's `show.dataplane` passes it through),
// declared once: vigil-dp fills these structs and the CLI reads them back, so a key cannot be
// spelled one way by the producer and another by the reader. Every field has a default: an
// answer without one (a vigil-dp of another version) still reads.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/api/count.h"

namespace vigil::api {

struct PortStatus {
  std::string name;
  std::string link;  // "up" or "down"
  std::string mac;
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t device_rx_missed = 0;  // dropped by the device before the fast path saw them
  uint64_t device_tx_errors = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PortStatus, name, link, mac, rx_packets, rx_bytes,
                                                tx_packets, tx_bytes, device_rx_missed,
                                                device_tx_errors)

struct NextHopStatus {
  std::string via;  // an address, or "connected"
  std::string port;
  uint32_t weight = 1;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NextHopStatus, via, port, weight)

struct RouteStatus {
  std::string prefix;
  std::string action;  // forward, local, blackhole
  std::vector<NextHopStatus> next_hops;
  std::string source;  // connected, local, static, mesh (a peer's allowed IPs), bgp
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RouteStatus, prefix, action, next_hops, source)

struct NeighbourStatus {
  std::string address;
  std::string mac;
  std::string port;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NeighbourStatus, address, mac, port)

struct AdjacencyStatus {
  uint64_t in_use = 0;
  uint64_t capacity = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AdjacencyStatus, in_use, capacity)

struct OffloadPortStatus {
  std::string port;
  bool offloadable = false;
  std::string reason;  // why not, when not
  Count rx;            // of offloaded flows, forwarded by the classifier itself
  Count tx;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OffloadPortStatus, port, offloadable, reason, rx,
                                                tx)

struct FlowOffloadStatus {
  bool enabled = false;
  uint64_t generation = 0;
  uint64_t installed = 0;  // flows offered by the lcores, by outcome
  uint64_t stale = 0;
  uint64_t declined = 0;
  uint64_t failed = 0;
  uint64_t held = 0;               // offers to a next hop whose MAC just changed or flaps
  uint64_t retired = 0;            // flows removed because their next hop's MAC changed
  uint64_t damped_neighbours = 0;  // next hops whose MAC keeps changing, not offloaded to now
  std::vector<OffloadPortStatus> ports;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FlowOffloadStatus, enabled, generation, installed,
                                                stale, declined, failed, held, retired,
                                                damped_neighbours, ports)

// dataplane.kernel_fallback: the kernel's copy of the FIB, for while vigil-dp is away.
struct KernelFallbackStatus {
  bool enabled = false;
  uint64_t routes = 0;          // vigil-dp's routes in the kernel's main table
  std::string ipv6_forwarding;  // "per interface", or "all interfaces" on kernels before 6.17
  std::string error;            // why the kernel's routes are not the fast path's, if they are not
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(KernelFallbackStatus, enabled, routes,
                                                ipv6_forwarding, error)

struct DataplaneStatus {
  bool forwarding = false;  // off: the rest is empty
  std::vector<PortStatus> ports;
  std::map<std::string, uint64_t> drops;  // by reason
  uint64_t to_kernel = 0;
  uint64_t icmp_errors_sent = 0;
  uint64_t icmp_errors_rate_limited = 0;       // allowed, but over the rate limits
  uint64_t icmp_errors_not_allowed = 0;        // about an ICMP error, a fragment, a group source
  uint64_t icmp_errors_no_source_address = 0;  // the ingress port has no address to send from
  uint64_t ipv4_fragmented = 0;                // datagrams over the egress MTU sent in fragments
  uint64_t ipv4_fragments_created = 0;         // the fragments they became
  std::string rx_mode;                         // poll or adaptive
  uint64_t idle_sleeps = 0;
  uint64_t tx_hold_us = 0;
  std::vector<RouteStatus> routes;
  std::vector<NeighbourStatus> neighbours;
  AdjacencyStatus adjacencies;
  FlowOffloadStatus flow_offload;
  KernelFallbackStatus kernel_fallback;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataplaneStatus, forwarding, ports, drops,
                                                to_kernel, icmp_errors_sent,
                                                icmp_errors_rate_limited, icmp_errors_not_allowed,
                                                icmp_errors_no_source_address, ipv4_fragmented,
                                                ipv4_fragments_created, rx_mode, idle_sleeps,
                                                tx_hold_us, routes, neighbours, adjacencies,
                                                flow_offload, kernel_fallback)

}  // namespace vigil::api

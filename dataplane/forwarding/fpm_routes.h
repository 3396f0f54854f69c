// What a route zebra sent over FPM becomes in the fast path. zebra names each next hop's
// kernel interface: the fast path's ports are those interfaces (af_xdp) or stand behind
// them (the TAPs of dpdk mode), so the interface gives the port. A next hop over an
// interface that is no forwarding port (management, loopback), or over a port whose link is
// down, is left out; a route left with none is not the fast path's (another source's route,
// or none, takes the prefix). A gateway is kept as zebra gave it, 169.254.0.1 on-link
// included (an IPv4 route over an IPv6 next hop): the neighbour stage asks the kernel for
// its MAC address, and zebra has put it there.
#pragma once

#include <map>
#include <optional>

#include "bgp/fpm/fpm_route_store.h"
#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/route_builder.h"

namespace vigil::dp {

// Unreachable and prohibit routes drop with an ICMP unreachable (kNoRoute, shadowing a less
// specific route), blackholes drop silently.
std::optional<NextHopGroup> fpm_route_target(const fpm::ResolvedRoute& route,
                                             const std::map<int, PortId>& port_by_ifindex,
                                             const DownPorts& down);

}  // namespace vigil::dp

// The routes the fast path installs, from its routing input: for each port's addresses a
// connected route (out of that port, the destination is the neighbour) and a local route (to
// the kernel); then the static routes, the lowest distance winning per prefix. Connected and
// local routes beat a static route to the same prefix, as in any router. (BGP routes join
// here from FPM.)
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/route.h"
#include "dataplane/forwarding/routing_input.h"

namespace vigil::dp {

// Interfaces the fast path forwards on, by config name. Routes over any other interface
// (disabled, or not a fast-path port) are left out, as over a link that is down.
using PortMap = std::map<std::string, PortId>;

// Ports whose link is down: their connected routes and the static next hops over them are
// left out (a route whose every next hop is down gives way to the next-best distance), their
// local routes stay (the box keeps its addresses, as the kernel does).
using DownPorts = std::set<PortId>;

// Fails when a static next hop gives only `via` and no port's subnet contains it (recursive
// next hops need a routing protocol's resolution: BGP, later). Whether it fails does not
// depend on `down`: a commit is judged on the config, not on the links of the moment.
Expected<std::vector<Route>> build_routes(const RoutingInput& input, const DownPorts& down = {});

}  // namespace vigil::dp

// Where the fast path's routes come from, in its own terms: the forwarding ports' addresses
// and the static routes with next hops named by port. The fast path's plan builds it from the
// config (dataplane/fast_path_plan.h, the one adapter); route_builder.h turns it into routes.
// BGP routes from FPM will be a source beside it.
#pragma once

#include <optional>
#include <vector>

#include "common/net/ip.h"
#include "dataplane/forwarding/next_hop_group.h"

namespace vigil::dp {

struct PortAddresses {
  PortId port = 0;
  std::vector<net::Prefix> addresses;  // interface addresses: host bits set
};

struct StaticNextHop {
  std::optional<net::IpAddress> via;
  // An interface was named: `port` is it when it forwards, empty when it does not (the hop
  // is then left out, as over a link that is down). Not named: resolved through `via`.
  bool interface_named = false;
  std::optional<PortId> port;
  uint32_t weight = 1;
};

struct StaticRouteInput {
  net::Prefix prefix;
  uint32_t distance = 1;
  bool blackhole = false;
  std::vector<StaticNextHop> next_hops;
};

struct RoutingInput {
  std::vector<PortAddresses> ports;
  std::vector<StaticRouteInput> static_routes;
};

}  // namespace vigil::dp

// Which source's route each prefix gets in the FIB: the config's (connected, local, static,
// mesh: route_builder.h, add_mesh_routes) or BGP's (what zebra selected and sent over FPM),
// the lower administrative distance winning (route.h), a tie going to the config. Each source
// is kept whole, so that a BGP change costs its own prefix (an update of the route table,
// not a new table) and a prefix withdrawn by one source falls back to the other's route.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "dataplane/forwarding/route.h"

namespace vigil::dp {

class RouteSelection {
 public:
  // The config's routes, all of them (one per prefix). Returns the FIB's whole set, BGP's
  // routes merged in, for RouteTable::apply.
  std::vector<Route> set_config(std::vector<Route> routes);
  // BGP's route for `prefix`, or none (withdrawn, or nothing usable). Returns the FIB's
  // change, if the prefix's selected route changes.
  std::optional<RouteUpdate> set_bgp(const net::Prefix& prefix, std::optional<NextHopGroup> target);
  // Every BGP route dropped (zebra gone for good, BGP removed): the FIB's changes.
  std::vector<RouteUpdate> clear_bgp();

  // The source of the route the FIB has for `prefix`, if any.
  std::optional<RouteSource> selected_source(const net::Prefix& prefix) const;
  size_t bgp_routes() const { return bgp_.size(); }  // held, selected or not
  size_t bgp_selected() const { return bgp_selected_; }

 private:
  // Whether BGP's route wins over the config's for `prefix`.
  bool bgp_wins(const net::Prefix& prefix) const;

  std::map<net::Prefix, Route> config_;
  std::map<net::Prefix, NextHopGroup> bgp_;
  size_t bgp_selected_ = 0;
};

}  // namespace vigil::dp

// Which source's route each prefix gets in the FIB: the config's (connected, local, static,
// mesh: route_builder.h, add_mesh_routes) or BGP's (what zebra selected and sent over FPM),
// the lower administrative distance winning (route.h), a tie going to the config. Each source
// is kept whole, so that a BGP change costs its own prefix (an update of the route table,
// not a new table) and a prefix withdrawn by one source falls back to the other's route.
//
// Two more rules keep BGP from taking what it must not:
//   - a BGP route inside a mesh prefix (another site's network) is never selected: a more
//     specific route from upstream would send that site's traffic out unencrypted;
//   - the FIB's capacity goes to the config's routes first; BGP routes past it are held but
//     not selected (counted), so a full table never makes a commit fail. They are selected
//     again at the next set_config() (a commit, a link change) when there is room.
// What is selected is what the caller installs: the selection and the FIB stay the same set,
// but for a batch the route table refuses in part (its next-hop groups exhausted), until the
// next set_config().
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dataplane/forwarding/route.h"

namespace vigil::dp {

class RouteSelection {
 public:
  // Most routes the FIB takes per family; set before set_config().
  void set_capacity(size_t v4, size_t v6) {
    capacity_[0] = v4;
    capacity_[1] = v6;
  }
  // The mesh's prefixes (the other sites' networks, whatever route the config has for each);
  // set before set_config().
  void set_mesh(const std::vector<net::Prefix>& prefixes);
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
  // Held, not selected for want of room in the FIB (since the last set_config()).
  size_t bgp_over_capacity() const { return bgp_over_capacity_; }
  // Held, not selected: inside a mesh prefix.
  size_t bgp_inside_mesh() const { return bgp_inside_mesh_; }

 private:
  enum class Verdict { kSelected, kConfigWins, kInsideMesh, kNoRoom };
  struct Held {
    NextHopGroup target;
    Verdict verdict = Verdict::kConfigWins;
  };
  // The counters of `v`, by `delta` (+1, -1).
  void account(Verdict v, int delta);
  // What `prefix` (not selected now) would be, with `config` its config route or end().
  Verdict judge(const net::Prefix& prefix,
                std::map<net::Prefix, Route>::const_iterator config) const;
  bool inside_mesh(const net::Prefix& prefix) const;
  size_t& count(const net::Prefix& p) { return p.address.family == 4 ? count_[0] : count_[1]; }
  size_t capacity(const net::Prefix& p) const {
    return p.address.family == 4 ? capacity_[0] : capacity_[1];
  }

  std::map<net::Prefix, Route> config_;
  // The mesh's prefixes by length, so that a BGP route is checked with one lookup per length.
  std::map<int, std::set<net::Prefix>> mesh_;
  std::map<net::Prefix, Held> bgp_;
  size_t count_[2] = {0, 0};  // FIB entries per family: the config's and BGP's selected
  size_t capacity_[2] = {SIZE_MAX, SIZE_MAX};
  size_t bgp_selected_ = 0;
  size_t bgp_over_capacity_ = 0;
  size_t bgp_inside_mesh_ = 0;
};

}  // namespace vigil::dp

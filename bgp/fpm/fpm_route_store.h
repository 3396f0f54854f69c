// What zebra has told the fast path over FPM: its next-hop objects and the main table's
// routes, kept as zebra sent them and resolved on demand into routes with their next hops.
// A route names a next-hop object (RTA_NH_ID) that may come later or change under it; the
// store resolves when asked, so a next hop's change reaches every route that uses it.
//
// zebra keeps no state for a peer that went away: when it connects again it sends every next
// hop, then every route, with no end marker. The store marks what it holds at the reconnect
// (begin_resync) and sweeps what was not sent again when the caller decides the replay is
// over (end_resync): a route withdrawn while vigil-dp was not listening does not survive.
//
// The fast path takes the store's changes, not its whole content: every message marks the
// prefixes it may change (a next hop's change, every route that resolves through it), and
// take_changes() hands over each such prefix once, resolved or gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bgp/fpm/netlink_messages.h"
#include "common/expected.h"

namespace vigil::fpm {

struct FpmStoreLimits {
  size_t max_routes = 2'000'000;  // per family together; more is refused, counted
  size_t max_nexthops = 1'000'000;
  size_t max_group_members = 256;  // a group's, or a route's inline (MULTIPATH_NUM at most)
};

// A route as the fast path takes it: unicast with at least one next hop, or a discard.
struct ResolvedRoute {
  net::Prefix prefix;
  RouteKind kind = RouteKind::kUnicast;
  uint8_t protocol = 0;
  std::vector<FpmNextHop> next_hops;  // unicast only
  bool operator==(const ResolvedRoute&) const = default;
};

struct RouteChange {
  net::Prefix prefix;
  std::optional<ResolvedRoute> route;  // none: the prefix is not the store's any more
  bool operator==(const RouteChange&) const = default;
};

class FpmRouteStore {
 public:
  explicit FpmRouteStore(FpmStoreLimits limits = {}) : limits_(limits) {}

  // Takes one decoded message. Refused (nothing changes, the error says why): a route or a
  // next hop past the limits, a group too large. A route of another table than main is
  // left out (VRFs are not the fast path's yet) and counted.
  Status apply(const FpmMessage& message);
  // A message about `refused.prefix` or `refused.nexthop_id` did not decode, or apply()
  // refused it: fail closed. An add makes the route unreachable or the next hop a discard
  // (the old next hops must not stay, and a less specific route must not take the prefix);
  // a delete deletes. Within the limits, like apply().
  void refuse(const RefusedMessage& refused);

  // zebra connected again: everything held is stale until it is sent again.
  void begin_resync();
  // The replay is over: what is still stale goes. How many routes and next hops went.
  size_t end_resync();
  bool resyncing() const { return resyncing_; }

  // The main table's routes that resolve: unicast ones whose next hops are known (through
  // their next-hop object, a group's members each), and the discards. A route whose
  // object is missing, or resolves to no usable next hop, is left out until it does.
  std::vector<ResolvedRoute> resolved() const;
  // Every prefix that may have changed since the last call, once each, in prefix order:
  // resolved as resolved() would have it, or none.
  std::vector<RouteChange> take_changes();

  size_t routes() const { return routes_.size(); }
  size_t nexthops() const { return nexthops_.size(); }
  size_t other_tables() const { return other_tables_; }  // routes left out, all told
  // Changes with every message that may change resolved().
  uint64_t generation() const { return generation_; }

 private:
  struct StoredRoute {
    RouteMessage route;
    bool stale = false;
  };
  struct StoredNexthop {
    NexthopMessage nexthop;
    bool stale = false;
  };
  Status apply_route(const RouteMessage& r);
  Status apply_nexthop(const NexthopMessage& n);
  // The usable next hops of object `id` (weights multiplied through a group), or none.
  std::vector<FpmNextHop> next_hops_of(uint32_t id, bool& blackhole) const;
  std::optional<ResolvedRoute> resolve(const net::Prefix& prefix, const RouteMessage& r) const;
  void changed(const net::Prefix& prefix) { changed_prefixes_.push_back(prefix); }

  FpmStoreLimits limits_;
  std::map<net::Prefix, StoredRoute> routes_;
  std::unordered_map<uint32_t, StoredNexthop> nexthops_;
  size_t other_tables_ = 0;
  std::vector<net::Prefix> changed_prefixes_;  // may repeat: take_changes() sorts
  std::vector<uint32_t> changed_nexthops_;
  bool resyncing_ = false;
  uint64_t generation_ = 0;
};

}  // namespace vigil::fpm

#include "bgp/fpm/fpm_route_store.h"

#include <algorithm>
#include <string>

namespace vigil::fpm {

Status FpmRouteStore::apply(const FpmMessage& message) {
  if (const auto* r = std::get_if<RouteMessage>(&message)) {
    return apply_route(*r);
  }
  return apply_nexthop(std::get<NexthopMessage>(message));
}

Status FpmRouteStore::apply_route(const RouteMessage& r) {
  if (r.table != kMainTable) {
    ++other_tables_;
    return Ok{};
  }
  ++generation_;
  if (!r.add) {
    if (routes_.erase(r.prefix) != 0) {
      changed(r.prefix);
    }
    return Ok{};
  }
  if (r.next_hops.size() > limits_.max_group_members) {
    return fail(r.prefix.to_string() + ": " + std::to_string(r.next_hops.size()) +
                " next hops, more than " + std::to_string(limits_.max_group_members));
  }
  auto at = routes_.find(r.prefix);
  if (at == routes_.end()) {
    if (routes_.size() >= limits_.max_routes) {
      return fail(r.prefix.to_string() + ": more than " + std::to_string(limits_.max_routes) +
                  " routes from zebra");
    }
    routes_.emplace(r.prefix, StoredRoute{.route = r});
    changed(r.prefix);
    return Ok{};
  }
  at->second = StoredRoute{.route = r};
  changed(r.prefix);
  return Ok{};
}

Status FpmRouteStore::apply_nexthop(const NexthopMessage& n) {
  ++generation_;
  if (!n.add) {
    if (nexthops_.erase(n.id) != 0) {
      changed_nexthops_.push_back(n.id);
    }
    return Ok{};
  }
  if (n.group.size() > limits_.max_group_members) {
    return fail("next hop group " + std::to_string(n.id) + " of " + std::to_string(n.group.size()) +
                " members, more than " + std::to_string(limits_.max_group_members));
  }
  auto at = nexthops_.find(n.id);
  if (at == nexthops_.end()) {
    if (nexthops_.size() >= limits_.max_nexthops) {
      return fail("next hop " + std::to_string(n.id) + ": more than " +
                  std::to_string(limits_.max_nexthops) + " next hops from zebra");
    }
    nexthops_.emplace(n.id, StoredNexthop{.nexthop = n});
    changed_nexthops_.push_back(n.id);
    return Ok{};
  }
  at->second = StoredNexthop{.nexthop = n};
  changed_nexthops_.push_back(n.id);
  return Ok{};
}

void FpmRouteStore::refuse(const RefusedMessage& refused) {
  if (refused.route) {
    RouteMessage closed{.add = refused.add, .prefix = refused.prefix};
    if (refused.add) {
      closed.kind = RouteKind::kUnreachable;
    }
    (void)apply_route(closed);  // past the limit: the prefix was not held, nothing to close
    return;
  }
  NexthopMessage closed{.add = refused.add, .id = refused.nexthop_id, .blackhole = refused.add};
  (void)apply_nexthop(closed);
}

void FpmRouteStore::begin_resync() {
  for (auto& [_, r] : routes_) {
    r.stale = true;
  }
  for (auto& [_, n] : nexthops_) {
    n.stale = true;
  }
  resyncing_ = true;
}

size_t FpmRouteStore::end_resync() {
  size_t swept = 0;
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (it->second.stale) {
      changed(it->first);
      it = routes_.erase(it);
      ++swept;
    } else {
      ++it;
    }
  }
  for (auto it = nexthops_.begin(); it != nexthops_.end();) {
    if (it->second.stale) {
      changed_nexthops_.push_back(it->first);
      it = nexthops_.erase(it);
      ++swept;
    } else {
      ++it;
    }
  }
  resyncing_ = false;
  ++generation_;
  return swept;
}

namespace {

// A next hop the fast path can use: it names a gateway or an interface.
bool usable(const FpmNextHop& hop) {
  return hop.gateway || hop.ifindex != 0;
}

// A next-hop object as a route's next hop, with `weight` (a group member's).
FpmNextHop hop_of(const NexthopMessage& n, uint32_t weight = 1) {
  return {.gateway = n.gateway, .ifindex = n.ifindex, .weight = weight, .onlink = n.onlink};
}

}  // namespace

std::vector<FpmNextHop> FpmRouteStore::next_hops_of(uint32_t id, bool& blackhole) const {
  std::vector<FpmNextHop> out;
  const auto at = nexthops_.find(id);
  if (at == nexthops_.end()) {
    return out;
  }
  const NexthopMessage& n = at->second.nexthop;
  if (n.group.empty()) {
    if (n.blackhole) {
      blackhole = true;
    } else if (FpmNextHop hop = hop_of(n); usable(hop)) {
      out.push_back(hop);
    }
    return out;
  }
  // The kernel allows no group inside a group: a member that is one is left out. Nor does it
  // mix a discard with other members: one that is (zebra's, or one refused: fail closed)
  // makes the whole group a discard, rather than let its traffic go elsewhere.
  for (const auto& [member, weight] : n.group) {
    const auto m = nexthops_.find(member);
    if (m != nexthops_.end() && m->second.nexthop.blackhole) {
      blackhole = true;
      out.clear();
      return out;
    }
    if (m == nexthops_.end() || !m->second.nexthop.group.empty()) {
      continue;
    }
    if (FpmNextHop hop = hop_of(m->second.nexthop, weight); usable(hop)) {
      out.push_back(hop);
    }
  }
  return out;
}

std::optional<ResolvedRoute> FpmRouteStore::resolve(const net::Prefix& prefix,
                                                    const RouteMessage& r) const {
  ResolvedRoute route{.prefix = prefix, .kind = r.kind, .protocol = r.protocol};
  if (r.kind != RouteKind::kUnicast) {
    return route;
  }
  bool blackhole = false;
  if (r.nexthop_id != 0) {
    route.next_hops = next_hops_of(r.nexthop_id, blackhole);
  } else {
    for (const FpmNextHop& hop : r.next_hops) {
      if (usable(hop)) {
        route.next_hops.push_back(hop);
      }
    }
  }
  if (blackhole) {
    route.kind = RouteKind::kBlackhole;
    route.next_hops.clear();
  } else if (route.next_hops.empty()) {
    return std::nullopt;  // its next hop is not known (yet), or none is usable
  }
  return route;
}

std::vector<ResolvedRoute> FpmRouteStore::resolved() const {
  std::vector<ResolvedRoute> out;
  out.reserve(routes_.size());
  for (const auto& [prefix, stored] : routes_) {
    if (auto route = resolve(prefix, stored.route)) {
      out.push_back(std::move(*route));
    }
  }
  return out;
}

std::vector<RouteChange> FpmRouteStore::take_changes() {
  if (!changed_nexthops_.empty()) {
    // A next hop's change reaches the groups that hold it, and the routes of both: one pass
    // over the routes, however many next hops changed (they change in bursts, with a peer).
    std::sort(changed_nexthops_.begin(), changed_nexthops_.end());
    auto touched = [this](uint32_t id) {
      return std::binary_search(changed_nexthops_.begin(), changed_nexthops_.end(), id);
    };
    std::vector<uint32_t> groups;
    for (const auto& [id, stored] : nexthops_) {
      for (const auto& [member, weight] : stored.nexthop.group) {
        if (touched(member)) {
          groups.push_back(id);
          break;
        }
      }
    }
    changed_nexthops_.insert(changed_nexthops_.end(), groups.begin(), groups.end());
    std::sort(changed_nexthops_.begin(), changed_nexthops_.end());
    for (const auto& [prefix, stored] : routes_) {
      if (stored.route.nexthop_id != 0 && touched(stored.route.nexthop_id)) {
        changed_prefixes_.push_back(prefix);
      }
    }
    changed_nexthops_.clear();
  }
  std::sort(changed_prefixes_.begin(), changed_prefixes_.end());
  changed_prefixes_.erase(std::unique(changed_prefixes_.begin(), changed_prefixes_.end()),
                          changed_prefixes_.end());
  std::vector<RouteChange> out;
  out.reserve(changed_prefixes_.size());
  for (const net::Prefix& prefix : changed_prefixes_) {
    const auto at = routes_.find(prefix);
    out.push_back(
        {.prefix = prefix,
         .route = at == routes_.end() ? std::nullopt : resolve(prefix, at->second.route)});
  }
  changed_prefixes_.clear();
  return out;
}

}  // namespace vigil::fpm

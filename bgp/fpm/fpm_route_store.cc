#include "bgp/fpm/fpm_route_store.h"

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
    routes_.erase(r.prefix);
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
    return Ok{};
  }
  at->second = StoredRoute{.route = r};
  return Ok{};
}

Status FpmRouteStore::apply_nexthop(const NexthopMessage& n) {
  ++generation_;
  if (!n.add) {
    nexthops_.erase(n.id);
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
    return Ok{};
  }
  at->second = StoredNexthop{.nexthop = n};
  return Ok{};
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
      it = routes_.erase(it);
      ++swept;
    } else {
      ++it;
    }
  }
  for (auto it = nexthops_.begin(); it != nexthops_.end();) {
    if (it->second.stale) {
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
    } else if (n.gateway || n.ifindex != 0) {
      out.push_back({.gateway = n.gateway, .ifindex = n.ifindex});
    }
    return out;
  }
  // The kernel allows no group inside a group: a member that is one is left out.
  for (const auto& [member, weight] : n.group) {
    const auto m = nexthops_.find(member);
    if (m == nexthops_.end() || !m->second.nexthop.group.empty() || m->second.nexthop.blackhole) {
      continue;
    }
    const NexthopMessage& hop = m->second.nexthop;
    if (hop.gateway || hop.ifindex != 0) {
      out.push_back({.gateway = hop.gateway, .ifindex = hop.ifindex, .weight = weight});
    }
  }
  return out;
}

std::vector<ResolvedRoute> FpmRouteStore::resolved() const {
  std::vector<ResolvedRoute> out;
  out.reserve(routes_.size());
  for (const auto& [prefix, stored] : routes_) {
    const RouteMessage& r = stored.route;
    ResolvedRoute route{.prefix = prefix, .kind = r.kind, .protocol = r.protocol};
    if (r.kind == RouteKind::kUnicast) {
      bool blackhole = false;
      route.next_hops = r.nexthop_id != 0 ? next_hops_of(r.nexthop_id, blackhole) : r.next_hops;
      if (blackhole) {
        route.kind = RouteKind::kBlackhole;
      } else if (route.next_hops.empty()) {
        continue;  // its next hop is not known (yet), or none is usable
      }
    }
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace vigil::fpm

#include "dataplane/forwarding/route_table.h"

#include <algorithm>
#include <set>

namespace vigil::dp {
namespace {

std::pair<RouteAction, std::vector<NextHop>> group_key(const NextHopGroup& g) {
  return {g.action, g.members};
}

// The host routes of kLocal groups: the box's own addresses.
LocalAddresses locals_of(const std::map<net::Prefix, GroupId>& routes,
                         const std::vector<NextHopGroup>& groups) {
  LocalAddresses out;
  for (const auto& [prefix, id] : routes) {
    if (groups[id].action != RouteAction::kLocal ||
        prefix.length != (prefix.address.family == 4 ? 32 : 128)) {
      continue;
    }
    if (prefix.address.family == 4) {
      const auto& b = prefix.address.bytes;
      out.v4.push_back(uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]);
    } else {
      std::array<uint8_t, 16> a{};
      std::copy_n(prefix.address.bytes.begin(), 16, a.begin());
      out.v6.push_back(a);
    }
  }
  std::sort(out.v4.begin(), out.v4.end());
  std::sort(out.v6.begin(), out.v6.end());
  return out;
}

}  // namespace

bool LocalAddresses::has6(const uint8_t* address) const {
  std::array<uint8_t, 16> a{};
  std::copy_n(address, 16, a.begin());
  return std::binary_search(v6.begin(), v6.end(), a);
}

ForwardingSnapshot::ForwardingSnapshot(const Fib* f, std::vector<NextHopGroup> g,
                                       std::vector<PortInfo> p, LocalAddresses l)
    : fib(f), groups(std::move(g)), ports(std::move(p)), locals(std::move(l)) {
  entries.reserve(groups.size());
  for (const NextHopGroup& group : groups) {
    GroupEntry e{.action = group.action, .first = static_cast<uint32_t>(forwarders.size())};
    if (group.action == RouteAction::kForward) {
      for (const uint16_t member : group.buckets) {
        const NextHop& hop = group.members[member];
        forwarders.push_back(Forwarder{
            .gateway = hop.gateway ? hop.gateway->bytes.data() : nullptr,
            .adjacency = group.adjacency_of(member),
            .port = hop.port,
            .mtu = hop.port < ports.size() ? ports[hop.port].mtu : uint16_t{0},
        });
      }
      e.buckets = static_cast<uint32_t>(group.buckets.size());
    }
    entries.push_back(e);
  }
}

Expected<std::unique_ptr<RouteTable>> RouteTable::create(const std::string& name,
                                                         const RouteTableLimits& limits,
                                                         Synchronizer& readers,
                                                         AdjacencyProvider* adjacencies) {
  auto a = Fib::create(name + "a", limits.fib);
  if (!a) {
    return fail(a.error());
  }
  auto b = Fib::create(name + "b", limits.fib);
  if (!b) {
    return fail(b.error());
  }
  return std::unique_ptr<RouteTable>(
      new RouteTable(std::move(*a), std::move(*b), limits, readers, adjacencies));
}

RouteTable::RouteTable(std::unique_ptr<Fib> a, std::unique_ptr<Fib> b,
                       const RouteTableLimits& limits, Synchronizer& readers,
                       AdjacencyProvider* adjacencies)
    : active_(std::move(a)),
      standby_(std::move(b)),
      limits_(limits),
      readers_(readers),
      adjacencies_(adjacencies) {
  groups_.push_back(make_group(RouteAction::kNoRoute));
  published_.store(new ForwardingSnapshot(active_.get(), groups_, {}), std::memory_order_release);
}

RouteTable::~RouteTable() {
  // The owner stops the lcores before destroying the table.
  delete published_.load(std::memory_order_acquire);
}

Status RouteTable::check(const std::vector<Route>& routes, size_t port_count) const {
  size_t v4 = 0;
  std::set<net::Prefix> prefixes;
  std::set<std::pair<RouteAction, std::vector<NextHop>>> groups;
  for (const auto& r : routes) {
    if (Status ok = check_target(r.prefix, r.target, port_count); !ok) {
      return ok;
    }
    if (!prefixes.insert(r.prefix).second) {
      return fail("route " + r.prefix.to_string() + " is given twice");
    }
    v4 += r.prefix.address.family == 4 ? 1 : 0;
    groups.insert(group_key(r.target));
  }
  const size_t v6 = routes.size() - v4;
  if (Status fits = check_counts(v4, v6); !fits) {
    return fits;
  }
  // Old and new groups live side by side during an update.
  if (groups.size() + group_refs_.size() > limits_.max_groups) {
    return fail("too many distinct next-hop groups: " + std::to_string(groups.size()) +
                " wanted, " + std::to_string(group_refs_.size()) + " in use, at most " +
                std::to_string(limits_.max_groups) + " during an update");
  }
  return Ok{};
}

Status RouteTable::check_counts(size_t v4, size_t v6) const {
  if (v4 > limits_.fib.max_routes4 || v6 > limits_.fib.max_routes6) {
    return fail("too many routes: " + std::to_string(v4) + " IPv4 (at most " +
                std::to_string(limits_.fib.max_routes4) + ") and " + std::to_string(v6) +
                " IPv6 (at most " + std::to_string(limits_.fib.max_routes6) + ")");
  }
  return Ok{};
}

Status RouteTable::check_target(const net::Prefix& prefix, const NextHopGroup& target,
                                size_t port_count) const {
  if (prefix != prefix.network()) {
    return fail("route " + prefix.to_string() + " has host bits set");
  }
  if (target.action == RouteAction::kForward && target.buckets.empty()) {
    return fail("route " + prefix.to_string() + " forwards to no next hop");
  }
  for (const auto& m : target.members) {
    if (m.port >= port_count) {
      return fail("route " + prefix.to_string() + " names port " + std::to_string(m.port) + " of " +
                  std::to_string(port_count));
    }
  }
  return Ok{};
}

GroupId RouteTable::acquire_group(const NextHopGroup& group) {
  const auto key = group_key(group);
  if (auto it = group_ids_.find(key); it != group_ids_.end()) {
    ++group_refs_[it->second];
    return it->second;
  }
  GroupId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    groups_[id] = group;
  } else {
    id = static_cast<GroupId>(groups_.size());
    groups_.push_back(group);
  }
  NextHopGroup& made = groups_[id];
  made.adjacency.assign(made.members.size(), kNoAdjacency);
  for (size_t m = 0; m < made.members.size() && adjacencies_ != nullptr; ++m) {
    const NextHop& hop = made.members[m];
    if (hop.gateway) {
      made.adjacency[m] =
          adjacencies_->acquire_adjacency(NeighbourKey::from(hop.port, *hop.gateway));
    }
  }
  group_ids_.emplace(key, id);
  group_refs_[id] = 1;
  return id;
}

void RouteTable::release_group(GroupId id) {
  if (--group_refs_[id] > 0) {
    return;
  }
  group_refs_.erase(id);
  group_ids_.erase(group_key(groups_[id]));
  // Released only now: no lcore reads this group any more (see apply), so none holds these.
  for (const AdjacencyId a : groups_[id].adjacency) {
    if (a != kNoAdjacency && adjacencies_ != nullptr) {
      adjacencies_->release_adjacency(a);
    }
  }
  groups_[id] = make_group(RouteAction::kNoRoute);
  free_ids_.push_back(id);
}

Status RouteTable::apply_changes(Fib& fib, const std::vector<Change>& changes) {
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    Status done = c.after ? fib.add(c.prefix, *c.after) : fib.remove(c.prefix);
    if (!done) {
      // Put back what this FIB had, newest first, so the caller can report and keep going.
      for (size_t j = i; j-- > 0;) {
        const auto& u = changes[j];
        (void)(u.before ? fib.add(u.prefix, *u.before) : fib.remove(u.prefix));
      }
      return done;
    }
  }
  return Ok{};
}

Status RouteTable::apply(std::vector<Route> routes, std::vector<PortInfo> ports,
                         std::shared_ptr<const LocalPolicy> local_policy) {
  if (Status ok = check(routes, ports.size()); !ok) {
    return ok;
  }
  std::sort(routes.begin(), routes.end());
  // Acquire first, release after: a group both old and new routes use keeps its id.
  std::vector<Change> changes;
  std::vector<GroupId> released;
  std::map<net::Prefix, GroupId> next;
  for (const auto& r : routes) {
    const GroupId id = acquire_group(r.target);
    next.emplace(r.prefix, id);
    auto old = routes_.find(r.prefix);
    if (old == routes_.end()) {
      changes.push_back({r.prefix, std::nullopt, id});
    } else if (old->second != id) {
      changes.push_back({r.prefix, old->second, id});
    }
  }
  for (const auto& [prefix, id] : routes_) {
    released.push_back(id);
    if (!next.contains(prefix)) {
      changes.push_back({prefix, id, std::nullopt});
    }
  }
  if (Status ok = apply_changes(*standby_, changes); !ok) {
    for (const auto& [prefix, id] : next) {
      release_group(id);
    }
    return ok;
  }
  ports_ = std::move(ports);
  routes_ = std::move(next);
  routes4_ = static_cast<size_t>(std::count_if(
      routes_.begin(), routes_.end(), [](const auto& r) { return r.first.address.family == 4; }));
  publish(locals_of(routes_, groups_), std::move(local_policy));
  for (GroupId id : released) {
    release_group(id);
  }
  // The same edits succeeded on a FIB of the same size holding the same routes; failing here
  // is a bug, reported loudly, and the lcores keep the correct (active) table meanwhile.
  if (Status ok = apply_changes(*standby_, changes); !ok) {
    return fail("internal error: the standby FIB diverged from the active one: " + ok.error());
  }
  return Ok{};
}

void RouteTable::publish(LocalAddresses locals, std::shared_ptr<const LocalPolicy> local_policy) {
  auto* snapshot = new ForwardingSnapshot(standby_.get(), groups_, ports_, std::move(locals));
  snapshot->local_policy = std::move(local_policy);
  const ForwardingSnapshot* old = published_.exchange(snapshot, std::memory_order_acq_rel);
  std::swap(active_, standby_);
  if (changed_) {
    changed_();  // lcores may read the new snapshot from here on
  }
  readers_.wait_for_readers();
  delete old;
}

Status RouteTable::update(const std::vector<RouteUpdate>& updates) {
  // The last word on each prefix (a stable sort by prefix, the last of each run kept),
  // checked before anything is acquired.
  std::vector<const RouteUpdate*> order;
  order.reserve(updates.size());
  for (const RouteUpdate& u : updates) {
    if (u.target) {
      if (Status ok = check_target(u.prefix, *u.target, ports_.size()); !ok) {
        return ok;
      }
    } else if (u.prefix != u.prefix.network()) {
      return fail("route " + u.prefix.to_string() + " has host bits set");
    }
    order.push_back(&u);
  }
  std::stable_sort(order.begin(), order.end(), [](const RouteUpdate* a, const RouteUpdate* b) {
    return a->prefix < b->prefix;
  });
  std::vector<std::pair<net::Prefix, const std::optional<NextHopGroup>*>> last;
  last.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && order[i + 1]->prefix == order[i]->prefix) {
      continue;
    }
    last.emplace_back(order[i]->prefix, &order[i]->target);
  }
  size_t v4 = routes4_, v6 = routes_.size() - routes4_;
  std::set<std::pair<RouteAction, std::vector<NextHop>>> new_groups;
  bool locals_change = false;
  for (const auto& [prefix, target] : last) {
    const auto held = routes_.find(prefix);
    const bool had = held != routes_.end();
    size_t& count = prefix.address.family == 4 ? v4 : v6;
    count = count + (*target ? 1 : 0) - (had ? 1 : 0);
    if (*target && !group_ids_.contains(group_key(**target))) {
      new_groups.insert(group_key(**target));
    }
    locals_change = locals_change || (had && groups_[held->second].action == RouteAction::kLocal) ||
                    (*target && (*target)->action == RouteAction::kLocal);
  }
  if (Status fits = check_counts(v4, v6); !fits) {
    return fits;
  }
  if (new_groups.size() + group_refs_.size() > limits_.max_groups) {
    return fail("too many distinct next-hop groups: " + std::to_string(new_groups.size()) +
                " new, " + std::to_string(group_refs_.size()) + " in use, at most " +
                std::to_string(limits_.max_groups));
  }
  // Acquire first, release after the grace period, as apply() does.
  std::vector<Change> changes;
  std::vector<GroupId> acquired, released;
  for (const auto& [prefix, target] : last) {
    const auto held = routes_.find(prefix);
    const std::optional<GroupId> before =
        held == routes_.end() ? std::nullopt : std::optional<GroupId>(held->second);
    std::optional<GroupId> after;
    if (*target) {
      after = acquire_group(**target);
      acquired.push_back(*after);
    }
    if (before == after) {
      if (after) {
        released.push_back(*after);  // the reference just taken: the route keeps its own
      }
      continue;  // the same target, or the withdrawal of a prefix not held
    }
    if (before) {
      released.push_back(*before);
    }
    changes.push_back({prefix, before, after});
  }
  if (changes.empty()) {
    for (GroupId id : released) {
      release_group(id);
    }
    return Ok{};
  }
  if (Status ok = apply_changes(*standby_, changes); !ok) {
    for (GroupId id : acquired) {
      release_group(id);
    }
    return ok;
  }
  for (const Change& c : changes) {
    if (c.after) {
      routes_[c.prefix] = *c.after;
    } else {
      routes_.erase(c.prefix);
    }
  }
  routes4_ = v4;
  const ForwardingSnapshot* current = published_.load(std::memory_order_acquire);
  publish(locals_change ? locals_of(routes_, groups_) : current->locals, current->local_policy);
  for (GroupId id : released) {
    release_group(id);
  }
  if (Status ok = apply_changes(*standby_, changes); !ok) {
    return fail("internal error: the standby FIB diverged from the active one: " + ok.error());
  }
  return Ok{};
}

}  // namespace vigil::dp

// The routes the lcores forward by. The control thread hands it the complete desired set
// (connected, local and selected static/BGP routes); it works out the difference and applies
// it without a lock on the lcore side and without a moment where a packet sees half of it:
//
//   1. new groups are built; the standby FIB (which no lcore reads) gets the difference;
//   2. one snapshot {standby FIB, groups} is published with a single pointer store;
//   3. the control thread waits until every lcore has passed a quiescent point (RCU), so no
//      one still reads the old snapshot or the old FIB;
//   4. the old FIB gets the same difference and becomes the standby; the old snapshot and
//      groups nothing points at any more are freed.
//
// Two FIBs cost twice the memory but make every update incremental and every packet see
// either the old or the new table, never a mix (rte_fib in DPDK 22.11 has no RCU of its own).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/expected.h"
#include "dataplane/forwarding/adjacency_table.h"
#include "dataplane/forwarding/fib.h"
#include "dataplane/forwarding/local_policy.h"
#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/port_info.h"
#include "dataplane/forwarding/route.h"

namespace vigil::dp {

// Waits until every reader has left what it read before the call (an RCU grace period).
class Synchronizer {
 public:
  virtual ~Synchronizer() = default;
  virtual void wait_for_readers() = 0;
};

// What a packet needs of the member its flow picked, one record per bucket of its group, so
// forwarding chases no pointer from the group to its members to their port.
struct Forwarder {
  const uint8_t* gateway;  // 16 bytes (IPv4 in the first 4); nullptr on a connected route
  AdjacencyId adjacency;   // the gateway's, or kNoAdjacency
  PortId port;
  uint16_t mtu;  // the port's IP MTU
};

// A group as the lcores read it: its action and its buckets in `forwarders`.
struct GroupEntry {
  RouteAction action = RouteAction::kNoRoute;
  uint32_t buckets = 0;
  uint32_t first = 0;
};

// The box's own addresses (the FIB's local routes), sorted, for the admit stage to refuse
// them as a source: IPv4 in host order, IPv6 as stored.
struct LocalAddresses {
  std::vector<uint32_t> v4;
  std::vector<std::array<uint8_t, 16>> v6;

  bool has4(uint32_t host_order) const {
    return std::binary_search(v4.begin(), v4.end(), host_order);
  }
  bool has6(const uint8_t* address) const;
};

// What one lcore burst reads: one consistent view. Built once, never changed; the control
// thread publishes a new one for every change.
struct ForwardingSnapshot {
  ForwardingSnapshot(const Fib* f, std::vector<NextHopGroup> g, std::vector<PortInfo> p,
                     LocalAddresses l = {});
  ForwardingSnapshot(const ForwardingSnapshot&) = delete;
  ForwardingSnapshot& operator=(const ForwardingSnapshot&) = delete;

  // The group an FIB lookup returned, "no route" for an id it does not know.
  const GroupEntry& entry(uint64_t group) const {
    return entries[group < entries.size() ? group : kNoRouteGroup];
  }
  // The member a flow hash picks (precondition: e.action is kForward).
  const Forwarder& pick(const GroupEntry& e, uint32_t flow_hash) const {
    return forwarders[e.first + bucket_of(flow_hash, e.buckets)];
  }

  const Fib* fib;
  std::vector<NextHopGroup> groups;  // indexed by GroupId; [kNoRouteGroup] is "no route"
  std::vector<PortInfo> ports;       // indexed by PortId
  LocalAddresses locals;
  std::vector<GroupEntry> entries;  // indexed by GroupId, from `groups` and `ports`
  std::vector<Forwarder> forwarders;
  // What the box's kernel takes of what the mesh brings for it; none: everything.
  std::shared_ptr<const LocalPolicy> local_policy;
};

struct RouteTableLimits {
  FibLimits fib;
  // Group ids are 15 bits in the FIB (2-byte next hops, top bit reserved by DIR-24-8).
  uint32_t max_groups = 32767;
};

class RouteTable {
 public:
  // With `adjacencies`, each published group names its gateways' adjacencies (the
  // provider must outlive the table); without, lcores look every next hop up by address.
  static Expected<std::unique_ptr<RouteTable>> create(const std::string& name,
                                                      const RouteTableLimits& limits,
                                                      Synchronizer& readers,
                                                      AdjacencyProvider* adjacencies = nullptr);
  ~RouteTable();

  // Whether `routes` would fit (route and group counts, one entry per prefix) — nothing
  // changes. apply() checks the same first.
  Status check(const std::vector<Route>& routes, size_t port_count) const;
  // Makes `routes` the table and `ports` the ports' details, as described at the top, with
  // `local_policy` for what tunnels bring for the box. On error nothing has changed. Next
  // hops must name ports below ports.size().
  Status apply(std::vector<Route> routes, std::vector<PortInfo> ports,
               std::shared_ptr<const LocalPolicy> local_policy = nullptr);
  // Changes the prefixes named (the last update of a prefix wins) and keeps every other
  // route, the ports and the local policy: for a source that changes a few routes at a time
  // (BGP over FPM) in a table too large to hand over whole. The same publication as
  // apply(): one new snapshot, one grace period. Checked as apply() is; on error nothing
  // has changed.
  Status update(const std::vector<RouteUpdate>& updates);
  // Called on the control thread each time apply() has published a new snapshot: what was
  // decided by the old one (flows offloaded to XDP) must be decided again.
  void on_change(std::function<void()> changed) { changed_ = std::move(changed); }

  // Lcores: the view to use for one burst. Valid until the lcore's next quiescent point.
  const ForwardingSnapshot* snapshot() const { return published_.load(std::memory_order_acquire); }

  const std::map<net::Prefix, GroupId>& routes() const { return routes_; }
  const RouteTableLimits& limits() const { return limits_; }
  const NextHopGroup& group(GroupId id) const { return groups_[id]; }
  size_t group_count() const { return group_refs_.size(); }

 private:
  struct Change {
    net::Prefix prefix;
    std::optional<GroupId> before, after;
  };
  RouteTable(std::unique_ptr<Fib> a, std::unique_ptr<Fib> b, const RouteTableLimits& limits,
             Synchronizer& readers, AdjacencyProvider* adjacencies);
  static Status apply_changes(Fib& fib, const std::vector<Change>& changes);
  GroupId acquire_group(const NextHopGroup& group);
  void release_group(GroupId id);
  Status check_target(const net::Prefix& prefix, const NextHopGroup& target,
                      size_t port_count) const;
  // Whether `v4` and `v6` routes fit the FIB.
  Status check_counts(size_t v4, size_t v6) const;
  // Publishes {standby FIB, groups, ports, locals, policy}, waits for the lcores to leave the
  // old snapshot, and makes the old active FIB the standby.
  void publish(LocalAddresses locals, std::shared_ptr<const LocalPolicy> local_policy);

  std::unique_ptr<Fib> active_, standby_;
  RouteTableLimits limits_;
  Synchronizer& readers_;
  AdjacencyProvider* adjacencies_;
  std::map<net::Prefix, GroupId> routes_;
  size_t routes4_ = 0;  // of routes_, IPv4
  // Groups by id, the one copy the control thread edits; each snapshot gets its own copy.
  std::vector<NextHopGroup> groups_;
  std::map<GroupId, uint32_t> group_refs_;  // routes using each live group
  std::map<std::pair<RouteAction, std::vector<NextHop>>, GroupId> group_ids_;
  std::vector<GroupId> free_ids_;
  std::vector<PortInfo> ports_;
  std::atomic<const ForwardingSnapshot*> published_{nullptr};
  std::function<void()> changed_;
};

}  // namespace vigil::dp

// What the control thread publishes for the lcores about the mesh, read once per burst: the
// tunnel's UDP port and virtual port, which peer slots exist and the allowed IPs (the
// cryptokey routing table: peer by inner destination on the way out, inner source checked on
// the way in), the WAN links and each peer's paths over them (what the lcore probes, and seals
// on once a path is up). Built whole, never changed: a change publishes a new one (RCU, as the
// routes).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/mesh/mesh_channel.h"
#include "dataplane/mesh/session_index_filter.h"
#include "dataplane/mesh/wan_links.h"
#include "sdwan/paths/path_class.h"
#include "sdwan/paths/peer_paths.h"
#include "sdwan/wireguard/allowed_ips.h"

namespace vigil::dp {

// A WAN link as the lcores send on it (wan_links.h): its port and its source addresses.
struct TunnelLink {
  PortId port = 0;
  bool has_v4 = false, has_v6 = false;
  uint8_t v4[4] = {};  // network order
  uint8_t v6[16] = {};
};

// One path to a peer: our link `link` toward the peer's endpoint `to`, through `next_hop` (the
// link's gateway, or the endpoint itself on the link's subnet; IPv4 in the first 4 bytes).
struct TunnelPath {
  uint8_t link = 0;      // into TunnelTable::links
  uint8_t endpoint = 0;  // which of the peer's configured endpoints (for show)
  TunnelEndpoint to;
  uint8_t next_hop[16] = {};
};

// A peer's paths in order of preference (links in the config's order, each toward the peer's
// endpoints in theirs). No interval: the peer is not probed and its traffic follows the routes.
struct TunnelPeerPaths {
  uint16_t interval_ms = 0;
  uint8_t count = 0;
  int8_t preferred = -1;  // chosen by hand (vigil request path prefer): taken while up
  std::array<TunnelPath, paths::kMaxPaths> path{};
};

struct TunnelTable {
  uint16_t listen_port = 0;  // host order
  PortId tunnel_port = 0;    // the virtual port routes to the mesh point at
  uint16_t mtu = 1420;       // of the inner packets: sealed, they fit every wan port
  std::array<bool, kMaxMeshPeers> active{};
  wg::AllowedIps allowed;  // prefix → slot
  // New with every table published: an lcore takes the paths again when it changes.
  uint64_t generation = 0;
  std::array<TunnelLink, kMaxWanLinks> links{};
  uint8_t link_count = 0;
  std::vector<TunnelPeerPaths> paths;     // by slot: kMaxMeshPeers entries, or none
  std::vector<paths::PathClass> classes;  // policies: the first that matches a packet decides
};

// The published table: the control thread swaps it and frees the old one after every lcore
// passed a quiescent point.
class TunnelTables {
 public:
  explicit TunnelTables(Synchronizer& readers) : readers_(readers) {}
  ~TunnelTables() { delete current_.load(); }
  TunnelTables(const TunnelTables&) = delete;
  TunnelTables& operator=(const TunnelTables&) = delete;

  // Lcores: the table for one burst (nullptr: no mesh), valid until their quiescent point.
  const TunnelTable* get() const { return current_.load(std::memory_order_acquire); }
  // Which session indexes may be live (the control thread writes it, lcores read it).
  SessionIndexFilter& indexes() { return indexes_; }
  const SessionIndexFilter& indexes() const { return indexes_; }

  // Control thread.
  void publish(std::unique_ptr<TunnelTable> table) {
    const TunnelTable* old = current_.exchange(table.release(), std::memory_order_acq_rel);
    if (old != nullptr) {
      readers_.wait_for_readers();
      delete old;
    }
  }

 private:
  Synchronizer& readers_;
  std::atomic<const TunnelTable*> current_{nullptr};
  SessionIndexFilter indexes_;
};

}  // namespace vigil::dp

// What the control thread publishes for the lcores about the mesh, read once per burst: the
// tunnel's UDP port and virtual port, which peer slots exist and the allowed IPs (the
// cryptokey routing table: peer by inner destination on the way out, inner source checked on
// the way in). Built whole, never changed: a change publishes a new one (RCU, as the routes).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/forwarding/next_hop_group.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/mesh/mesh_channel.h"
#include "dataplane/mesh/session_index_filter.h"
#include "sdwan/wireguard/allowed_ips.h"

namespace vigil::dp {

struct TunnelTable {
  uint16_t listen_port = 0;  // host order
  PortId tunnel_port = 0;    // the virtual port routes to the mesh point at
  uint16_t mtu = 1420;       // of the inner packets: sealed, they fit every wan port
  std::array<bool, kMaxMeshPeers> active{};
  wg::AllowedIps allowed;  // prefix → slot
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

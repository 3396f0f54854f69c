// One forwarding lcore's side of the mesh: the transport of the peers it owns. It alone holds
// their sessions (keys, send counter, replay window), so sealing and opening need neither a
// lock nor an atomic. Two stages run it (mesh_stages.h):
//
//   receive, after parse: a UDP datagram to the mesh port on one of the box's addresses is
//     the mesh's. A transport message is opened in place, its inner packet checked against
//     the peer's allowed IPs and left in flight with a new Ethernet header, as if it had come
//     in on the port, so admit and route treat it like any other. Handshake messages go to
//     the control thread.
//   send, after route: a packet routed to the tunnel's virtual port is sealed in place to the
//     peer its destination belongs to, given IP and UDP headers toward the peer's endpoint
//     and routed again, outer header and all, to a wan port and gateway for the neighbour
//     stage. Without a usable session it waits (a few per peer) for the handshake the
//     control thread makes.
//
// Paths: for each peer it owns whose paths the table lists, the lcore probes every path on its
// interval (sdwan/paths/), answers nothing (each side sends its own and echoes the other's),
// evaluates each path every millisecond and on every probe, and seals the peer's traffic on the
// first path up in order of preference, out of that path's link to its gateway, whatever the
// routes say. No path up (none configured, the peer not probed, or all down): the packet
// follows the routes toward the peer's endpoint, as before paths. A path's change goes to the
// control thread as an event; its measurements to TunnelPeerStats::paths every 100 ms.
//
// Packets the lcore makes itself (keepalives, handshake messages, packets that waited) run
// through the pipeline as a burst of their own (originate()). Nothing here allocates per
// packet; a session's arrival or departure (once per handshake) may.
//
// With several forwarding lcores, each peer's sessions live on one of them, its owner (slot
// mod lcores), and its session indexes say which (wg::shard_of_index). What reaches another
// lcore (a datagram RSS gave it, a packet toward the peer from a LAN flow it carries) is passed
// to the owner's inbox (tunnel_handoff.h) and comes out of the owner's originate(): a datagram
// parsed again from the start, a packet to seal as it was routed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "dataplane/forwarding/route_table.h"
#include "dataplane/mesh/mesh_channel.h"
#include "dataplane/mesh/tunnel_handoff.h"
#include "dataplane/mesh/tunnel_table.h"
#include "dataplane/pipeline/burst.h"
#include "dataplane/pipeline/lcore_counters.h"
#include "sdwan/paths/class_paths.h"

struct rte_mempool;

namespace vigil::dp {

inline constexpr size_t kMaxStagedPerPeer = 32;
inline constexpr size_t kMaxOriginated = 256;
// Packets taken from the inbox per loop: other lcores cannot keep this one from its own queues.
inline constexpr unsigned kHandoffPacketsPerPoll = 4 * kBurstSize;

// Which lcore this is among those carrying the mesh, and every one's inbox (by shard; none:
// this lcore owns every peer).
struct TunnelShards {
  uint16_t self = 0;
  std::vector<TunnelHandoff*> inboxes;
};

class LcoreTunnels {
 public:
  // `stats` has kMaxMeshPeers entries, by slot. `pool` gives keepalives their mbufs.
  LcoreTunnels(const RouteTable& routes, const TunnelTables& tables, MeshChannel& channel,
               TunnelPeerStats* stats, LcoreCounters& counters, rte_mempool* pool,
               TunnelShards shards = {});
  ~LcoreTunnels();
  LcoreTunnels(const LcoreTunnels&) = delete;
  LcoreTunnels& operator=(const LcoreTunnels&) = delete;

  void receive(Burst& burst);
  void send(Burst& burst);
  // Takes the control thread's commands.
  void poll();
  // Fills `burst` with packets this lcore made or held, or else with what other lcores passed
  // it (up to kBurstSize); their count.
  uint16_t originate(Burst& burst);

  // Whose peer's sessions these are: the shard owning `slot`.
  uint16_t owner(size_t slot) const {
    return shard_count_ <= 1 ? 0 : static_cast<uint16_t>(slot % shard_count_);
  }

 private:
  struct Session {
    wg::TransportSession* transport = nullptr;
    int64_t made_ns = 0;
    int64_t last_rx_ns = 0;  // the last packet opened on it (0: none)
    explicit operator bool() const { return transport != nullptr; }
    // How much the peer may still want it: when it last sent on it, or for one it has not
    // used yet, when it was made (a fresh one it may start on any moment).
    int64_t worth() const { return last_rx_ns != 0 ? last_rx_ns : made_ns; }
  };
  struct Held {
    rte_mbuf* packet;
    PacketState state;
  };
  // A packet this lcore made or held, for originate(): a payload (keepalive, handshake
  // message) still to encapsulate toward `to`, or an inner packet for the send stage.
  struct Originated {
    rte_mbuf* packet = nullptr;
    PacketState state;
    TunnelEndpoint to;
    bool payload = false;
    // A payload for one path of the peer in `slot` (its index in the table's list), else -1:
    // routed toward `to`.
    int16_t path = -1;
    uint16_t slot = 0;
    uint64_t generation = 0;  // of the table `path` is in
    bool probe = false;
  };
  struct Peer {
    Session current, next;
    // Sessions this side no longer sends on, kept for what the peer still sends on them: the
    // previous one after a rotation, as in every WireGuard, and a second one, because when both
    // sides initiate at once (persistent keepalives starting together, rekeys that stay in
    // step) the peer may be sending on either the current session a new one displaced or the
    // previous one, depending on the order its own handshakes completed in. Dropping the one
    // it used lost a burst of packets at crossed rekeys in the lab (1 run in 4).
    std::array<Session, 2> old;
    TunnelEndpoint endpoint;
    std::array<Held, kMaxStagedPerPeer> staged;
    uint32_t staged_count = 0;
    // Probed: its paths' state (made when the table gives it paths) and the path its traffic
    // takes (-1: the routes').
    std::unique_ptr<paths::PeerPaths> paths;
    std::unique_ptr<paths::ClassPaths> classes;  // which path each application class takes
    int16_t active_path = -1;
  };

  // Receive.
  void take_datagram(Burst& burst, uint16_t i, const TunnelTable& t, const ForwardingSnapshot& snap,
                     int64_t now_ns, uint32_t offset, uint32_t length);
  void open_transport(Burst& burst, uint16_t i, const TunnelTable& t,
                      const ForwardingSnapshot& snap, int64_t now_ns, uint32_t offset,
                      uint32_t length);
  // Send: the mbuf becomes the WireGuard datagram of its inner packet, sealed on the peer's
  // current session; its size, or 0 (st.drop says why).
  size_t seal_datagram(rte_mbuf* m, PacketState& st, Peer& peer, uint16_t slot,
                       const TunnelTable& t, int64_t now_ns);
  // An inner IPv4 packet without DF over the tunnel's MTU, fragmented, each fragment sealed.
  void fragment_and_seal(Burst& burst, uint16_t i, Peer& peer, uint16_t slot, const TunnelTable& t,
                         int64_t now_ns);
  // Seals the packet's inner IP packet on the peer's current session and gives it outer
  // headers, or drops it.
  void seal(Burst& burst, uint16_t i, Peer& peer, uint16_t slot, const TunnelTable& t,
            const ForwardingSnapshot& snap, int64_t now_ns);
  // Routes toward `to` and writes outer IP and UDP headers (and room for Ethernet) in front of
  // the `payload_length` bytes at the mbuf's data start; false (st.drop says why) when it
  // cannot.
  // With `via`, out of that path's link to its next hop instead of by the routes.
  bool encapsulate(rte_mbuf* m, PacketState& st, uint32_t payload_length, const TunnelEndpoint& to,
                   const TunnelTable& t, const ForwardingSnapshot& snap,
                   const TunnelPath* via = nullptr);
  // The path the peer's traffic takes now, if one is up (or degraded) in this table.
  const TunnelPath* active_path(uint16_t slot, const TunnelTable& t) const;
  const TunnelPath* path_in(const TunnelTable& t, uint16_t slot, int16_t path) const;
  static uint32_t path_identity(const TunnelTable& t, const TunnelPath& path);

  // Paths.
  void sync_paths(const TunnelTable& t);
  void run_paths(const TunnelTable& t, int64_t now_ns);
  void send_probe(uint16_t slot, uint16_t path, int64_t now_ns);
  // A probe the peer sent, received on `in_port` from `from`: nothing, or why it is dropped.
  std::optional<DropReason> take_probe(uint16_t slot, const TunnelTable& t, PortId in_port,
                                       const TunnelEndpoint& from, std::span<const uint8_t> inner,
                                       int64_t now_ns);
  // After probes arrived (tick false) or on the millisecond tick: the paths' states, and the
  // classes' choices (on the tick, or at once when a state changed).
  void evaluate_paths(uint16_t slot, const TunnelTable& t, int64_t now_ns, bool tick);
  // The path a packet to the peer takes: its class's (policies), else the peer's first up.
  const TunnelPath* path_for_packet(uint16_t slot, const TunnelTable& t, const PacketState& st);
  // The peer's path for traffic no class decides: the one chosen by hand while it is up,
  // else the first up, else the first degraded (-1: none, the routes').
  int16_t choose_active(uint16_t slot, const TunnelTable& t) const;
  void publish_path_stats(uint16_t slot, const TunnelTable& t, int64_t now_ns);

  void install(const MeshCommand& c);
  void retire(Session& s);
  // `s` to the peer's old sessions; when both are taken, the one of the three the peer is
  // least likely to send on (worth()) is retired.
  void demote(Peer& p, Session& s);
  void clear(uint16_t slot);
  void flush_staged(uint16_t slot);
  void keepalive(uint16_t slot);
  // An mbuf holding `inner_length` bytes that `fill` writes (0: a keepalive), sealed on the
  // peer's current session, its counters counted; nullptr (nothing counted, `fill` not called)
  // when there is no mbuf.
  template <typename Fill>
  rte_mbuf* make_sealed(uint16_t slot, size_t inner_length, int64_t now_ns, Fill fill);
  void send_handshake(const MeshCommand& c);
  bool usable(const Session& s, int64_t now_ns) const;
  // To the owner's inbox (the packet is taken), or dropped when the inbox is full.
  void hand_off(Burst& burst, uint16_t i, uint16_t to, bool received);
  uint16_t originate_own(Burst& burst);
  uint16_t take_handed_off(Burst& burst);

  const RouteTable& routes_;
  const TunnelTables& tables_;
  MeshChannel& channel_;
  TunnelPeerStats* stats_;
  LcoreCounters& counters_;
  rte_mempool* pool_;
  std::array<Peer, kMaxMeshPeers> peers_{};
  std::unordered_map<uint32_t, uint16_t> slot_of_index_;  // local index → peer slot
  std::vector<Originated> originated_;                    // reserved: never grows per packet
  std::vector<wg::TransportSession*> retiring_;           // waiting for room in the ring
  uint16_t ip_id_ = 0;
  TunnelShards shards_;
  uint32_t shard_count_ = 1;
  uint64_t paths_generation_ = 0;               // of the table the paths were taken from
  std::vector<uint16_t> probed_;                // the slots this lcore probes
  std::vector<paths::PathClass> classes_seen_;  // the last table's classes
  int64_t next_paths_ns_ = 0;                   // when run_paths is due (every millisecond)
  int64_t next_path_stats_ns_ = 0;              // when the stats are published (every 100 ms)
  uint32_t next_epoch_ = 1;                     // where the next PeerPaths' epochs start
  std::array<HandedOff, kBurstSize> inbox_{};   // taken from this lcore's inbox, not yet run
  unsigned inbox_count_ = 0, inbox_at_ = 0;
  unsigned handoff_left_ = kHandoffPacketsPerPoll;
};

}  // namespace vigil::dp

// The mesh's control side, on vigil-dp's control thread: the handshakes (wg::Handshaker), each
// peer's timers, its endpoint (configured, resolved from DNS, or where it roamed), and a mirror
// of the sessions the peer's lcore holds (which, when made, by whom) for rekeying and expiry.
// It drives each lcore over its channel and learns from the lcores through events and the
// per-peer counters, polled each tick; it never touches a session's counters itself. X25519 runs
// here and never on an lcore. DNS lookups run on a thread of their own, so a slow resolver holds up
// nothing.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/worker_pool.h"
#include "dataplane/mesh/mesh_channel.h"
#include "dataplane/mesh/mesh_plan.h"
#include "dataplane/mesh/tunnel_table.h"
#include "sdwan/wireguard/handshaker.h"
#include "sdwan/wireguard/timers.h"

struct rte_mempool;

namespace vigil::dp {

// One path to a peer (show paths): what the control thread knows of it and what its lcore
// measures.
struct MeshPathStatus {
  std::string link, endpoint;
  bool measured = false;  // the lcore has it (false: just configured, or not probed)
  paths::PathState state = paths::PathState::kDown;
  bool active = false;
  std::optional<int64_t> rtt_ns, rtt_p50_ns, rtt_p99_ns;
  int64_t jitter_in_ns = 0, jitter_out_ns = 0;
  double loss_in_1s = 0, loss_out_1s = 0, loss_in_10s = 0, loss_out_10s = 0;
  std::optional<int64_t> last_heard_ago_ns;
  uint64_t sent = 0, received = 0, changes = 0;
  std::vector<std::string> classes;  // the policies classes it carries now
  std::optional<paths::Transition> last_change;
  std::optional<wg::WallClock::time_point> last_change_wall;
};

struct MeshPeerStatus {
  std::string name;
  wg::Key public_key{};
  std::optional<wg::Key> previous_public_key;  // still taken, until previous_key_until
  int64_t previous_key_until = 0;
  std::optional<net::HostPort> endpoint;
  std::vector<net::Prefix> allowed_ips;
  std::optional<wg::WallClock::time_point> latest_handshake;
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint64_t handshakes_sent = 0, handshakes_received = 0;
  uint32_t persistent_keepalive = 0;
  bool has_session = false;
  std::string endpoint_problem;  // a name that did not resolve, say
  uint32_t probe_interval_ms = 0;
  std::vector<MeshPathStatus> paths;
  std::string preferred;  // "wan2 198.18.2.2:51820" when chosen by hand
};

struct MeshStatus {
  wg::Key public_key{};
  std::optional<wg::Key> previous_public_key;  // still answered, until previous_key_until
  int64_t previous_key_until = 0;
  uint16_t listen_port = 0;
  std::vector<MeshPeerStatus> peers;
  std::map<std::string, uint64_t> rejects;  // handshake messages refused, by reason
  bool under_load = false;
};

// Looks a name up; the address or why not. Blocking: called on the resolver's thread.
using Resolve = std::function<Expected<net::IpAddress>(const std::string& name)>;

class MeshControl {
 public:
  using Clock = std::chrono::steady_clock;

  // `channels` are the lcores', by shard: the peer in slot s is channel s mod their number's
  // (its sessions' indexes say so, wg::IndexShard). `stats` has kMaxMeshPeers entries, each
  // written by its peer's lcore. `pool` gives handshake messages their mbufs. `resolve`
  // defaults to getaddrinfo().
  MeshControl(std::vector<MeshChannel*> channels, TunnelTables& tables, TunnelPeerStats* stats,
              rte_mempool* pool, PortId tunnel_port, uint16_t mtu, Resolve resolve = {});
  ~MeshControl();

  // Makes `plan` the mesh: peers added, removed or changed, the tunnel table published with
  // `mtu` for the inner packets. Keys change in place (a rotation): sessions stay, the
  // previous key is taken until its grace ends (tick() retires it), and a peer whose key
  // changed gets a handshake at once, which proves the new key. A changed preshared key (or
  // a key that cannot change in place) starts the peer over.
  void apply(const MeshPlan& plan, uint16_t mtu);
  // No mesh: every peer gone, no table (the lcore takes nothing as the mesh's).
  void stop();
  // Events from the lcore, the counters, the timers, DNS: what is due now.
  void tick(Clock::time_point now, wg::WallClock::time_point wall);

  MeshStatus status() const;
  // The routes changed with a WAN link: every peer with a session gets a keepalive now, which
  // leaves by the route in force (its source the new link's address), so the peer roams to it
  // at once rather than after its timers.
  void paths_changed();
  // An operator's choice of `peer`'s path: over `link` (toward `endpoint`, or the first of the
  // peer's endpoints it reaches), taken by all the peer's traffic while it is up, until
  // `automatic` (nullopt link) gives the choice back to the probes. Not config: vigil-dp
  // forgets it when it restarts. Fails, naming the peer's paths, for one it does not have.
  Status prefer(const std::string& peer, const std::optional<std::string>& link,
                const std::optional<std::string>& endpoint);

 private:
  struct SessionMeta {
    uint32_t local_index = 0;
    Clock::time_point made{};
    bool initiator = false;
    explicit operator bool() const { return local_index != 0; }
  };
  struct PathRecord {
    std::string link, endpoint;
    uint64_t changes = 0;
    std::optional<paths::Transition> last;
    std::optional<wg::WallClock::time_point> last_wall;
  };
  struct Peer {
    MeshPeerPlan plan;
    uint16_t slot = 0;
    wg::PeerId id = 0;
    wg::PeerTimers timers;
    std::optional<TunnelEndpoint> endpoint;
    size_t endpoint_choice = 0;  // which of plan.endpoints is in use
    std::string endpoint_problem;
    std::optional<Clock::time_point> resolve_at;
    std::optional<net::IpAddress> resolved;  // the name's address at the last lookup
    // The sessions the peer's lcore sends on and has answered with; the ones it keeps only
    // for receiving (lcore_tunnels.h, old) are expired by owned_indexes_.
    SessionMeta current, next;
    // Next sessions that newer ones as responder displaced, oldest first. Their lcore may
    // have made them current already (kPromoted on the owner's channel, read after a
    // handshake that came in by another lcore's): the mirror follows when that event comes.
    std::array<SessionMeta, 4> displaced{};
    std::optional<wg::WallClock::time_point> latest_handshake;
    uint64_t handshakes_sent = 0, handshakes_received = 0;
    int64_t seen_rx_ns = 0, seen_data_rx_ns = 0, seen_tx_ns = 0, seen_data_tx_ns = 0;
    // The paths the published table gives the lcore, in its order, and their last change.
    std::vector<PathRecord> paths;
    // Chosen by hand: the link and endpoint (names: it follows the path across tables).
    std::optional<std::pair<std::string, std::string>> preferred;
  };

  void add_peer(const MeshPeerPlan& plan, Clock::time_point now);
  // The handshaker's keys made the plan's, previous keys only while their grace lasts at
  // `wall`; grace_ends_ set to the next end. False when this side's key could not change in
  // place; the peers whose key could not are in `failed`.
  bool sync_keys(wg::WallClock::time_point wall, std::vector<std::string>* failed = nullptr);
  // Forgets the peers; their slots are emptied on the lcore (send_removals) only once a table
  // without them is published, so nothing is staged in a slot after it was emptied.
  void remove_peers(const std::vector<std::string>& names, bool publish_table);
  void send_removals();
  std::vector<std::string> peer_names() const;
  void release_index(uint32_t index);
  void forget_owned_indexes();
  // REJECT_AFTER_TIME: the lcores refuse such sessions already; now they go.
  void expire_sessions(Clock::time_point now);
  void publish();
  // `p`'s paths into the table (`out`), and its records of them to match.
  void plan_paths(Peer& p, TunnelPeerPaths& out);
  void path_changed(Peer& p, size_t path, const paths::Transition& t,
                    wg::WallClock::time_point wall);
  void take_events(Clock::time_point now, wg::WallClock::time_point wall);
  void take_handshake(const MeshEvent& e, size_t shard, Clock::time_point now,
                      wg::WallClock::time_point wall);
  void take_event(const MeshEvent& e, size_t shard, Clock::time_point now,
                  wg::WallClock::time_point wall);
  void take_resolved();
  void poll_counters(Peer& p, Clock::time_point now, wg::WallClock::time_point wall);
  void run_timers(Peer& p, Clock::time_point now, wg::WallClock::time_point wall);
  // `why` names the rule that asked for it (the debug log says).
  void initiate(Peer& p, Clock::time_point now, wg::WallClock::time_point wall, const char* why);
  // By the lcore of `shard`: a handshake message goes out with whatever lcore sends it.
  void send(const std::vector<uint8_t>& bytes, const TunnelEndpoint& to, size_t shard);
  // To the lcore that owns c.slot (kSend: of `shard`); false (its session and packet freed)
  // when the ring is full.
  bool command(const MeshCommand& c, size_t shard = 0);
  size_t owner(uint16_t slot) const { return slot % channels_.size(); }
  void set_endpoint(Peer& p, const TunnelEndpoint& e);
  // The next configured endpoint: an address at once, a name looked up.
  void choose_endpoint(Peer& p, size_t choice, Clock::time_point now);
  void install(Peer& p, const wg::SessionKeys& keys, Clock::time_point now);
  // The lcore made the next session with `index` current (kPromoted).
  void promoted(Peer& p, uint32_t index, Clock::time_point now, wg::WallClock::time_point wall);
  void forget_all(Peer& p);
  Peer* by_slot(uint16_t slot);

  std::vector<MeshChannel*> channels_;
  TunnelTables& tables_;
  TunnelPeerStats* stats_;
  rte_mempool* pool_;
  PortId tunnel_port_;
  uint16_t mtu_;
  Resolve resolve_;
  std::optional<MeshPlan> plan_;
  std::unique_ptr<wg::Handshaker> handshakes_;
  std::map<std::string, Peer> peers_;  // by name
  std::array<bool, kMaxMeshPeers> slot_used_{};
  std::vector<uint16_t> removed_slots_;  // to empty once the table without them is out
  // The sessions on the lcores made by this handshaker, by index: expired at
  // REJECT_AFTER_TIME whichever slot the lcore keeps them in, released when handed back.
  struct OwnedSession {
    uint16_t slot = 0;
    Clock::time_point made{};
    bool expired = false;
  };
  std::map<uint32_t, OwnedSession> owned_indexes_;
  std::map<std::string, uint64_t> rejects_;
  uint64_t generation_ = 0;            // of the tables published
  std::optional<int64_t> grace_ends_;  // unix seconds: the next previous key to retire

  struct Resolved {
    std::string peer;
    size_t choice;
    Expected<net::IpAddress> address;
  };
  std::mutex resolved_mutex_;
  std::vector<Resolved> resolved_;        // from the resolver's thread
  std::unique_ptr<WorkerPool> resolver_;  // last: joined first
};

}  // namespace vigil::dp

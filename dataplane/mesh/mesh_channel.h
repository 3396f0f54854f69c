// What vigil-dp's control thread (handshakes, timers) and a forwarding lcore (transport) say to
// each other about the mesh, and the pair of rings that carries it. They share nothing
// writable: the lcore owns its peers' sessions (keys, send counter, replay window) and the
// control thread learns what happened to them from events and from per-peer counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "common/expected.h"
#include "common/net/host_port.h"
#include "sdwan/paths/path_monitor.h"
#include "sdwan/paths/peer_paths.h"
#include "sdwan/wireguard/transport.h"

struct rte_mbuf;
struct rte_ring;

namespace vigil::dp {

inline constexpr size_t kMaxMeshPeers = 256;
// Each ring's size: room for every session of every peer handed back at once (4 each) and the
// handshakes and commands besides.
inline constexpr unsigned kMeshRingSize = 2048;

// Where a peer is reached: an address (4 or 16 bytes, by family) and a UDP port.
struct TunnelEndpoint {
  uint8_t family = 0;  // 0: none
  uint8_t address[16] = {};
  uint16_t port = 0;  // host order

  bool valid() const { return family != 0; }
  bool operator==(const TunnelEndpoint& o) const {
    return family == o.family && port == o.port &&
           std::memcmp(address, o.address, family == 4 ? 4 : 16) == 0;
  }
  static TunnelEndpoint from(const net::HostPort& hp);
  net::HostPort host_port() const;
};

// Control thread to lcore.
struct MeshCommand {
  enum class Kind : uint8_t {
    kInstall,     // `session` is the peer's: the current one (ours answered) or, `as_next`, the
                  // next one (we answered; current once the initiator uses it)
    kForget,      // the session with local index `index` goes
    kClear,       // every session and staged packet of the peer goes (keys zeroed)
    kRemove,      // the same, and the slot is emptied: endpoint and counters (peer removed)
    kDropStaged,  // the packets waiting for a handshake go (the handshake gave up)
    kEndpoint,    // the peer is reached at `endpoint` now
    kKeepalive,   // seal an empty packet to the peer on its current session
    kSend,        // `packet` (a handshake message or cookie reply) to `endpoint`
  };
  Kind kind = Kind::kKeepalive;
  bool as_next = false;
  uint16_t slot = 0;
  uint32_t index = 0;
  int64_t made_ns = 0;  // steady clock: when the session was made
  wg::TransportSession* session = nullptr;
  rte_mbuf* packet = nullptr;
  TunnelEndpoint endpoint;
};

// Lcore to control thread.
struct MeshEvent {
  enum class Kind : uint8_t {
    kHandshake,  // `packet` holds a handshake message (only) that came from `endpoint`
    kRoamed,     // the peer's authenticated packets come from `endpoint` now
    kPromoted,   // the next session (local index `index`) is the current one: the peer used it
    kRetired,    // `session` is no longer used by the lcore: the control thread frees it and
                 // its index
    kPath,       // path `index` of the peer changed state (`transition`)
  };
  Kind kind = Kind::kHandshake;
  uint16_t slot = 0;
  uint32_t index = 0;
  wg::TransportSession* session = nullptr;
  rte_mbuf* packet = nullptr;
  TunnelEndpoint endpoint;
  paths::Transition transition{};
  uint64_t generation = 0;  // kPath: of the table whose path `index` is
};

// What the lcore says of one path (show paths, metrics), refreshed every 100 ms and at each
// change: one writer, relaxed atomics, each field read on its own.
struct TunnelPathStats {
  std::atomic<uint8_t> state{0};                                    // paths::PathState
  std::atomic<bool> active{false};                                  // the peer's traffic takes it
  std::atomic<int64_t> rtt_ns{-1}, rtt_p50_ns{-1}, rtt_p99_ns{-1};  // -1: not measured yet
  std::atomic<int64_t> jitter_in_ns{0}, jitter_out_ns{0};
  std::atomic<uint32_t> loss_in_1s_ppm{0}, loss_out_1s_ppm{0}, loss_in_10s_ppm{0},
      loss_out_10s_ppm{0};
  std::atomic<int64_t> last_heard_ns{0}, since_ns{0};
  std::atomic<uint64_t> sent{0}, received{0}, transitions{0};
  std::atomic<uint32_t> classes{0};  // bit c: policies class c takes this path now
};

// A peer's paths as its lcore sees them.
struct TunnelPeerPathStats {
  std::atomic<uint8_t> count{0};
  std::array<TunnelPathStats, paths::kMaxPaths> path;
};

// What the lcore counts per peer and the control thread reads (show tunnels, metrics, the
// timers): one writer, relaxed atomics (plain loads and stores on x86).
struct TunnelPeerStats {
  std::atomic<uint64_t> rx_bytes{0}, rx_packets{0}, tx_bytes{0}, tx_packets{0};
  // Steady-clock nanoseconds of the last authenticated packet each way (0: never), and of the
  // last one with data (not a keepalive).
  std::atomic<int64_t> last_rx_ns{0}, last_data_rx_ns{0}, last_tx_ns{0}, last_data_tx_ns{0};
  std::atomic<uint32_t> current_index{0};  // the current session's local index (0: none)
  std::atomic<uint64_t> current_sent{0};   // messages sealed on it
  std::atomic<uint32_t> staged{0};         // packets waiting for a session
  TunnelPeerPathStats paths;
};

// One lcore's pair of single-producer single-consumer rings.
class MeshChannel {
 public:
  static Expected<std::unique_ptr<MeshChannel>> create(const std::string& name, unsigned size);
  ~MeshChannel();
  MeshChannel(const MeshChannel&) = delete;
  MeshChannel& operator=(const MeshChannel&) = delete;

  // False when the ring is full (nothing was queued).
  bool command(const MeshCommand& c);
  bool next_command(MeshCommand& c);
  bool event(const MeshEvent& e);
  bool next_event(MeshEvent& e);
  // Free room for events: handshakes are queued only while plenty remains, so retiring a
  // session always finds room.
  unsigned event_room() const;

 private:
  MeshChannel() = default;
  rte_ring* commands_ = nullptr;
  rte_ring* events_ = nullptr;
};

}  // namespace vigil::dp

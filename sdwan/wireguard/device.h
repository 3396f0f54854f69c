// A WireGuard interface's protocol side (the whitepaper's sections 5 and 6 put together), all
// in one thread: the handshakes (handshaker.h), sessions and their rotation, roaming, staged
// packets and the timers. It takes datagrams that arrived (with where from) and packets
// to send (to the peer the routing chose), and returns datagrams to send and packets to
// deliver. No socket, no thread, no clock of its own: vigil-dp's control thread drives it
// for handshakes and timers, and the tests drive two of them against each other. (The data
// path seals and opens through the TransportSession of a peer's current session; this class
// allocates per message and is not for every packet.)
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/net/host_port.h"
#include "sdwan/wireguard/allowed_ips.h"
#include "sdwan/wireguard/handshaker.h"
#include "sdwan/wireguard/timers.h"
#include "sdwan/wireguard/transport.h"

namespace vigil::wg {

struct Datagram {
  std::vector<uint8_t> bytes;
  net::HostPort to;
};

struct DeviceSettings {
  Key private_key{};
  // Handshake messages a second above which the device is under load (cookies asked for).
  uint32_t max_handshakes_per_second = 1000;
  // Packets held per peer while its handshake is under way.
  size_t max_staged = 128;
  std::function<milliseconds()> jitter;  // 0-333 ms per retry; random when empty (timers.h)
};

struct PeerSettings {
  Key public_key{};
  Key preshared_key{};
  std::optional<net::HostPort> endpoint;
  std::optional<seconds> persistent_keepalive;
};

struct PeerStatus {
  Key public_key{};
  std::optional<net::HostPort> endpoint;
  std::optional<WallClock::time_point> latest_handshake;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t handshakes_sent = 0;
  uint64_t handshakes_received = 0;
  bool has_session = false;
  bool handshake_pending = false;
};

class Device {
 public:
  explicit Device(DeviceSettings settings);

  const LocalIdentity& identity() const { return handshakes_.identity(); }
  // Nothing when the key is of low order or is another peer's already.
  std::optional<PeerId> add_peer(const PeerSettings& settings);
  void remove_peer(PeerId peer);
  AllowedIps& allowed_ips() { return allowed_; }

  struct Received {
    std::vector<Datagram> replies;  // responses, cookie replies, keepalives, staged packets
    std::vector<uint8_t> packet;    // the packet it carried (empty: none)
    std::optional<PeerId> from;     // whose it was, when authenticated
    std::string dropped;            // why nothing came of it ("" when something did)
  };
  Received receive(std::span<const uint8_t> datagram, const net::HostPort& from, TimerPoint now,
                   WallClock::time_point wall);

  // A packet for `peer`: sealed now, or held while a handshake is made (which this starts).
  std::vector<Datagram> send(PeerId peer, std::span<const uint8_t> packet, TimerPoint now,
                             WallClock::time_point wall);

  // What the timers want now: retries, keepalives, new handshakes, forgetting keys.
  std::vector<Datagram> tick(TimerPoint now, WallClock::time_point wall);

  PeerStatus status(PeerId peer) const;
  // Datagrams dropped, by reason (bad_mac1, stale_timestamp, replay, bad_tag, ...).
  const std::map<std::string, uint64_t>& drops() const { return drops_; }
  bool under_load(TimerPoint now) const { return handshakes_.under_load(now); }
  // Indexes in use (sessions and pending handshakes), for tests of what is forgotten.
  size_t indexes_in_use() const { return handshakes_.indexes_in_use(); }

 private:
  struct Session {
    TransportSession transport;
    TimerPoint made;
  };
  struct Peer {
    PeerTimers timers;
    std::optional<net::HostPort> endpoint;
    std::optional<Session> current, previous, next;
    std::vector<std::vector<uint8_t>> staged;
    PeerStatus status;
  };

  void forget(std::optional<Session>& s);
  void drop(Received& r, const std::string& why);
  std::optional<Datagram> initiate(Peer& p, PeerId id, TimerPoint now, WallClock::time_point wall);
  std::optional<Datagram> seal(Peer& p, std::span<const uint8_t> packet, TimerPoint now);
  void flush_staged(Peer& p, TimerPoint now, std::vector<Datagram>& out);
  // A session the handshaker made: installed as the responder's next one or, ours answered,
  // as the current one.
  void install(PeerId id, const SessionKeys& keys, const net::HostPort& from, TimerPoint now,
               WallClock::time_point wall, Received& r);
  void take_transport(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                      WallClock::time_point wall, Received& r);

  DeviceSettings settings_;
  Handshaker handshakes_;
  AllowedIps allowed_;
  std::map<PeerId, Peer> peers_;
  std::map<std::string, uint64_t> drops_;
};

}  // namespace vigil::wg

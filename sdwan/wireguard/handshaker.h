// The handshake side of a WireGuard interface (the whitepaper's sections 5.4.2 to 5.4.7): this
// side's identity; each peer's identity, cookie state, last timestamp and pending initiation;
// the index table; the handshake rate that puts the interface under load, when initiators must
// show a cookie and each source is rate-limited; and the messages themselves: initiations made
// and taken, responses made and taken, cookie replies. It makes sessions' keys and hands them
// out. Who keeps the sessions is the caller's: Device, all in one thread (tests, wg_probe), or
// vigil-dp, whose lcores own them while its control thread runs this. No socket, no clock.
//
// Keys change in place, for a rotation without loss: this side's key (set_identity) and a
// peer's (set_peer_keys) each keep a previous key for a grace period. Handshakes are always
// made with the current keys; a handshake sealed to this side's previous key is answered as
// that key, and one from a peer's previous key is taken as the peer's. Sessions, indexes and
// the replay state of timestamps stay through a change.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/net/host_port.h"
#include "sdwan/wireguard/allowed_ips.h"
#include "sdwan/wireguard/cookie.h"
#include "sdwan/wireguard/index_shard.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/timers.h"

namespace vigil::wg {

using WallClock = std::chrono::system_clock;

class Handshaker {
 public:
  // Above `max_handshakes_per_second` handshake messages a second the interface is under load.
  Handshaker(const Key& private_key, uint32_t max_handshakes_per_second);

  const LocalIdentity& identity() const { return locals_.front().identity; }
  // The key answered besides identity() during a rotation's grace.
  std::optional<Key> previous_public_key() const;

  // This side's key becomes `private_key`, and handshakes sealed to `previous` (when given)
  // are still answered until a later call leaves it out. Peers, sessions and indexes stay;
  // pending initiations are dropped (their timers make new ones with the new key). False,
  // nothing changed, when a key is a peer's.
  bool set_identity(const Key& private_key, const std::optional<Key>& previous = std::nullopt);

  // Nothing when the key is of low order, is another peer's already or is our own. Every index
  // the peer's handshakes and sessions get has shard_of_index() == `shard`.
  std::optional<PeerId> add_peer(const Key& public_key, const Key& preshared_key,
                                 IndexShard shard = {});
  // Forgets the peer with its pending handshake and every index it holds; with
  // `keep_session_indexes`, its sessions' indexes stay taken until release()d one by one, for
  // an owner that frees its sessions later (vigil-dp's lcore hands them back).
  void remove_peer(PeerId peer, bool keep_session_indexes = false);
  bool has_peer(PeerId peer) const { return peers_.contains(peer); }
  const Key& public_key(PeerId peer) const { return peers_.at(peer).keys.front(); }
  std::optional<Key> previous_public_key(PeerId peer) const;
  // `peer`'s key becomes `public_key`, and handshakes from `previous` (when given) are taken
  // as the peer's too until a later call leaves it out. Sessions, indexes and the timestamp
  // last seen stay; a pending initiation is dropped. False, nothing changed, when a key is of
  // low order, another peer's or ours.
  bool set_peer_keys(PeerId peer, const Key& public_key, const std::optional<Key>& previous);

  // An initiation to `peer`, its macs sealed, replacing the handshake pending (nothing when a
  // DH has no usable result). The response to it makes a session (take()).
  std::optional<InitiationBytes> initiate(PeerId peer, TimerPoint now, WallClock::time_point wall);
  bool handshake_pending(PeerId peer) const;
  // Drops the pending initiation (its ephemeral key zeroed, its index freed).
  void forget_handshake(PeerId peer);

  // A session's index goes back to the table when the session is forgotten.
  void release(uint32_t index);
  // The peer whose session has `index` (not a pending handshake's).
  std::optional<PeerId> session_owner(uint32_t index) const;
  size_t indexes_in_use() const { return indexes_.size(); }

  struct Taken {
    Classified kind = Classified::kTooShort;
    std::optional<PeerId> peer;       // whose message it was, once authenticated
    std::optional<SessionKeys> keys;  // a session made: responder (an initiation answered by
                                      // `reply`) or initiator (our initiation answered)
    std::vector<uint8_t> reply;       // a response or a cookie reply, to the source
    std::string dropped;              // why nothing came of it ("" when something did)
  };
  // An initiation, response or cookie reply from `from` (classify() said which).
  Taken take(std::span<const uint8_t> datagram, const net::HostPort& from, TimerPoint now);

  bool under_load(TimerPoint now) const;

 private:
  // This side's key and what checks the macs of messages sealed to it: [0] current, [1] the
  // previous one during a grace.
  struct Local {
    LocalIdentity identity;
    CookieChecker checker;
  };
  // A peer's key as one of our keys sees it (their DH, macs and cookies).
  struct Pairing {
    PeerIdentity identity;
    CookieGenerator cookies;
  };
  struct Peer {
    std::vector<Key> keys;  // [0] current, [1] previous during a grace
    Key preshared{};
    // pairings[l][k]: our key l with its key k; empty when that pair has no usable DH. Ours
    // [0] with its [0] makes every initiation and takes every response.
    std::vector<std::vector<std::optional<Pairing>>> pairings;
    Pairing& current() { return *pairings.front().front(); }
    Tai64n last_timestamp{};
    std::optional<TimerPoint> last_initiation_taken;
    std::optional<PendingInitiation> pending;
    IndexShard shard;
  };
  enum class SlotKind { kPending, kSession };
  struct Slot {
    PeerId peer;
    SlotKind kind;
  };

  // The pairings of `keys` with every key of ours; nothing when the current pair has no DH.
  std::optional<std::vector<std::vector<std::optional<Pairing>>>> pair(const std::vector<Key>& keys,
                                                                       const Key& preshared) const;
  // A key that may not become a peer's (`except` aside): ours, or another peer's.
  bool key_taken(const Key& key, std::optional<PeerId> except) const;
  uint32_t new_index(PeerId peer, SlotKind kind);
  void count_handshake(TimerPoint now);
  // Under load, handshakes from one source address: 20 a second, 5 at once (wireguard-go's).
  bool source_allowed(const net::HostPort& from, TimerPoint now);
  // A handshake message's way in: counted for the load, mac1, and under load mac2 (else a
  // cookie reply) and the source's rate. False (and `t` says why) when it goes no further.
  // Which of our keys it was sealed to is `local` (its index in locals_).
  bool admit(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now, Taken& t,
             size_t& local);
  void take_initiation(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                       Taken& t);
  void take_response(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                     Taken& t);
  void take_cookie_reply(std::span<const uint8_t> d, TimerPoint now, Taken& t);

  uint32_t max_handshakes_per_second_;
  std::vector<Local> locals_;
  std::map<PeerId, Peer> peers_;
  std::map<Key, PeerId> by_key_;
  std::map<uint32_t, Slot> indexes_;
  PeerId next_peer_ = 1;
  // Handshake messages in the current second, and until when the interface is under load.
  TimerPoint second_start_{};
  uint32_t second_count_ = 0;
  std::optional<TimerPoint> loaded_until_;
  struct Bucket {
    double tokens = 0;
    TimerPoint at{};
  };
  std::map<std::array<uint8_t, 16>, Bucket> per_source_;  // bounded: cleared past a size
};

}  // namespace vigil::wg

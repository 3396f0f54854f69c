// WireGuard's handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s with WireGuard's identifier
// (the whitepaper's section 5.4.2-5.4.4). An initiator sends an initiation and keeps its
// ephemeral state; the responder decrypts who it is from, answers with a response, and both
// end with the same pair of transport keys. Macs are not here (cookie.h seals and checks
// them). Pure functions over keys: no sockets, no clock, no peer table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "sdwan/wireguard/crypto.h"
#include "sdwan/wireguard/messages.h"
#include "sdwan/wireguard/tai64n.h"

namespace vigil::wg {

// This side: its static key pair and what is derived from it once.
struct LocalIdentity {
  Key private_key{};
  Key public_key{};
  Hash mac1_key{};    // HASH("mac1----" || public): checks mac1 of messages to us
  Hash cookie_key{};  // HASH("cookie--" || public): seals the cookies we hand out
  static LocalIdentity from_private(const Key& private_key);
};

// A peer as the handshake needs it: its key, the preshared key (all zeros: none), and what is
// derived once (the static-static DH, its mac1 and cookie keys).
struct PeerIdentity {
  Key public_key{};
  Key preshared_key{};
  Key static_static{};
  Hash mac1_key{};
  Hash cookie_key{};
  // Nothing when the public key is of low order (no usable shared secret).
  static std::optional<PeerIdentity> make(const LocalIdentity& local, const Key& public_key,
                                          const Key& preshared_key = {});
};

// Transport keys after a handshake, with the indexes each side addresses them by.
struct SessionKeys {
  Key send{};
  Key receive{};
  uint32_t local_index = 0;   // what the peer puts in `receiver` to reach us
  uint32_t remote_index = 0;  // what we put in `receiver` to reach it
  bool initiator = false;
};

// The initiator's state between its initiation and the response.
struct PendingInitiation {
  Hash hash{};
  Key chaining_key{};
  Key ephemeral_private{};
  uint32_t local_index = 0;
};

// An initiation from `local` to `peer`, sent as `local_index`; macs left zero. Nothing when a
// DH has no usable result.
std::optional<Initiation> create_initiation(const LocalIdentity& local, const PeerIdentity& peer,
                                            uint32_t local_index, const Tai64n& now,
                                            PendingInitiation& pending);
// The same with the ephemeral key given: a recorded handshake replays byte for byte.
std::optional<Initiation> create_initiation(const LocalIdentity& local, const PeerIdentity& peer,
                                            uint32_t local_index, const Tai64n& now,
                                            const KeyPair& ephemeral, PendingInitiation& pending);

// What a responder learns from an initiation: who sent it, when it says it was made, and the
// handshake's state for the response.
struct ReceivedInitiation {
  const PeerIdentity* peer = nullptr;
  Tai64n timestamp{};
  Hash hash{};
  Key chaining_key{};
  Key initiator_ephemeral{};
  uint32_t initiator_index = 0;
};
enum class InitiationRefusal {
  kStaticDoesNotDecrypt,     // not sealed for our key, or tampered with
  kUnknownPeer,              // a key we have no peer for
  kTimestampDoesNotDecrypt,  // the peer's key, but not its static-static secret
};
std::string_view name_of(InitiationRefusal r);
using PeerByKey = std::function<const PeerIdentity*(const Key& public_key)>;
// The initiation decrypted, or why not. The caller checks the timestamp against the peer's
// last one (later() or refuse as a replay) before answering.
std::optional<ReceivedInitiation> consume_initiation(const LocalIdentity& local,
                                                     const Initiation& message,
                                                     const PeerByKey& peer_by_key,
                                                     InitiationRefusal& why);

// The response to a received initiation, sent as `local_index`, and the session's keys
// (responder: send and receive swapped). Nothing when a DH has no usable result.
struct Answer {
  Response response;
  SessionKeys keys;
};
std::optional<Answer> create_response(const ReceivedInitiation& in, uint32_t local_index);

// The initiator's session from the response to `pending`; nothing when it does not decrypt.
std::optional<SessionKeys> consume_response(const LocalIdentity& local, const PeerIdentity& peer,
                                            const PendingInitiation& pending,
                                            const Response& message);

}  // namespace vigil::wg

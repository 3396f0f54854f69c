#include "sdwan/wireguard/noise.h"

#include <algorithm>
#include <string_view>

namespace vigil::wg {
namespace {

Bytes text(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
constexpr std::string_view kLabelMac1 = "mac1----";
constexpr std::string_view kLabelCookie = "cookie--";

// C = HASH(CONSTRUCTION), H = HASH(C || IDENTIFIER): the same for every handshake.
const Key& initial_chaining_key() {
  static const Key ck = hash(text(kConstruction));
  return ck;
}
const Hash& initial_hash() {
  static const Hash h = hash(initial_chaining_key(), text(kIdentifier));
  return h;
}

// The handshake's running state: the chaining key and the hash (the transcript).
struct Symmetric {
  Key ck;
  Hash h;

  void mix_hash(Bytes data) { h = hash(h, data); }
  // C = KDF1(C, input)
  void mix_key(Bytes input) {
    std::array<Key, 1> out{};
    kdf(ck, input, out);
    ck = out[0];
  }
  // (C, k) = KDF2(C, input): the key for one AEAD.
  Key mix_key_and_take(Bytes input) {
    std::array<Key, 2> out{};
    kdf(ck, input, out);
    ck = out[0];
    return out[1];
  }
  // (C, τ, k) = KDF3(C, psk); H = HASH(H || τ): the preshared key's step.
  Key mix_preshared(const Key& psk) {
    std::array<Key, 3> out{};
    kdf(ck, psk, out);
    ck = out[0];
    mix_hash(out[1]);
    return out[2];
  }
  // (T1, T2) = KDF2(C, ε)
  std::array<Key, 2> split() const {
    std::array<Key, 2> out{};
    kdf(ck, {}, out);
    return out;
  }
};

Symmetric start_for(const Key& responder_public) {
  Symmetric s{initial_chaining_key(), initial_hash()};
  s.mix_hash(responder_public);
  return s;
}

}  // namespace

LocalIdentity LocalIdentity::from_private(const Key& private_key) {
  LocalIdentity id;
  id.private_key = private_key;
  id.public_key = public_key_of(private_key);
  id.mac1_key = hash(text(kLabelMac1), id.public_key);
  id.cookie_key = hash(text(kLabelCookie), id.public_key);
  return id;
}

std::optional<PeerIdentity> PeerIdentity::make(const LocalIdentity& local, const Key& public_key,
                                               const Key& preshared_key) {
  auto ss = dh(local.private_key, public_key);
  if (!ss) {
    return std::nullopt;
  }
  PeerIdentity p;
  p.public_key = public_key;
  p.preshared_key = preshared_key;
  p.static_static = *ss;
  p.mac1_key = hash(text(kLabelMac1), public_key);
  p.cookie_key = hash(text(kLabelCookie), public_key);
  return p;
}

std::string_view name_of(InitiationRefusal r) {
  switch (r) {
    case InitiationRefusal::kStaticDoesNotDecrypt:
      return "static_does_not_decrypt";
    case InitiationRefusal::kUnknownPeer:
      return "unknown_peer";
    case InitiationRefusal::kTimestampDoesNotDecrypt:
      return "timestamp_does_not_decrypt";
  }
  return "static_does_not_decrypt";
}

std::optional<Initiation> create_initiation(const LocalIdentity& local, const PeerIdentity& peer,
                                            uint32_t local_index, const Tai64n& now,
                                            PendingInitiation& pending) {
  return create_initiation(local, peer, local_index, now, generate_keypair(), pending);
}

std::optional<Initiation> create_initiation(const LocalIdentity& local, const PeerIdentity& peer,
                                            uint32_t local_index, const Tai64n& now,
                                            const KeyPair& ephemeral, PendingInitiation& pending) {
  Symmetric s = start_for(peer.public_key);
  Initiation m;
  m.sender = local_index;
  m.ephemeral = ephemeral.public_key;
  s.mix_key(m.ephemeral);
  s.mix_hash(m.ephemeral);
  const auto es = dh(ephemeral.private_key, peer.public_key);
  if (!es) {
    return std::nullopt;
  }
  Key k = s.mix_key_and_take(*es);
  aead_encrypt(k, 0, local.public_key, s.h, m.encrypted_static);
  s.mix_hash(m.encrypted_static);
  k = s.mix_key_and_take(peer.static_static);
  aead_encrypt(k, 0, now, s.h, m.encrypted_timestamp);
  s.mix_hash(m.encrypted_timestamp);
  pending = {.hash = s.h,
             .chaining_key = s.ck,
             .ephemeral_private = ephemeral.private_key,
             .local_index = local_index};
  return m;
}

std::optional<ReceivedInitiation> consume_initiation(const LocalIdentity& local,
                                                     const Initiation& m,
                                                     const PeerByKey& peer_by_key,
                                                     InitiationRefusal& why) {
  Symmetric s = start_for(local.public_key);
  s.mix_key(m.ephemeral);
  s.mix_hash(m.ephemeral);
  const auto es = dh(local.private_key, m.ephemeral);
  if (!es) {
    why = InitiationRefusal::kStaticDoesNotDecrypt;
    return std::nullopt;
  }
  Key k = s.mix_key_and_take(*es);
  Key initiator_static{};
  if (!aead_decrypt(k, 0, m.encrypted_static, s.h, initiator_static)) {
    why = InitiationRefusal::kStaticDoesNotDecrypt;
    return std::nullopt;
  }
  s.mix_hash(m.encrypted_static);
  const PeerIdentity* peer = peer_by_key(initiator_static);
  if (peer == nullptr) {
    why = InitiationRefusal::kUnknownPeer;
    return std::nullopt;
  }
  k = s.mix_key_and_take(peer->static_static);
  ReceivedInitiation in;
  if (!aead_decrypt(k, 0, m.encrypted_timestamp, s.h, in.timestamp)) {
    why = InitiationRefusal::kTimestampDoesNotDecrypt;
    return std::nullopt;
  }
  s.mix_hash(m.encrypted_timestamp);
  in.peer = peer;
  in.hash = s.h;
  in.chaining_key = s.ck;
  in.initiator_ephemeral = m.ephemeral;
  in.initiator_index = m.sender;
  return in;
}

std::optional<Answer> create_response(const ReceivedInitiation& in, uint32_t local_index) {
  Symmetric s{in.chaining_key, in.hash};
  const KeyPair ephemeral = generate_keypair();
  Answer a;
  a.response.sender = local_index;
  a.response.receiver = in.initiator_index;
  a.response.ephemeral = ephemeral.public_key;
  s.mix_key(a.response.ephemeral);
  s.mix_hash(a.response.ephemeral);
  const auto ee = dh(ephemeral.private_key, in.initiator_ephemeral);
  const auto se = dh(ephemeral.private_key, in.peer->public_key);
  if (!ee || !se) {
    return std::nullopt;
  }
  s.mix_key(*ee);
  s.mix_key(*se);
  const Key k = s.mix_preshared(in.peer->preshared_key);
  aead_encrypt(k, 0, {}, s.h, a.response.encrypted_nothing);
  s.mix_hash(a.response.encrypted_nothing);
  const auto [t1, t2] = s.split();
  a.keys = {.send = t2,
            .receive = t1,
            .local_index = local_index,
            .remote_index = in.initiator_index,
            .initiator = false};
  return a;
}

std::optional<SessionKeys> consume_response(const LocalIdentity& local, const PeerIdentity& peer,
                                            const PendingInitiation& pending, const Response& m) {
  if (m.receiver != pending.local_index) {
    return std::nullopt;
  }
  Symmetric s{pending.chaining_key, pending.hash};
  s.mix_key(m.ephemeral);
  s.mix_hash(m.ephemeral);
  const auto ee = dh(pending.ephemeral_private, m.ephemeral);
  const auto se = dh(local.private_key, m.ephemeral);
  if (!ee || !se) {
    return std::nullopt;
  }
  s.mix_key(*ee);
  s.mix_key(*se);
  const Key k = s.mix_preshared(peer.preshared_key);
  std::array<uint8_t, 0> nothing{};
  if (!aead_decrypt(k, 0, m.encrypted_nothing, s.h, nothing)) {
    return std::nullopt;
  }
  s.mix_hash(m.encrypted_nothing);
  const auto [t1, t2] = s.split();
  return SessionKeys{.send = t1,
                     .receive = t2,
                     .local_index = pending.local_index,
                     .remote_index = m.sender,
                     .initiator = true};
}

}  // namespace vigil::wg

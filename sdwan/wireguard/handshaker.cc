#include "sdwan/wireguard/handshaker.h"

#include <algorithm>

namespace vigil::wg {
namespace {

// HandshakeInitationRate: one initiation per peer taken in 20 ms at most (a flood otherwise).
constexpr milliseconds kInitiationFloodInterval{20};
// Under load, per source address: 20 handshakes a second, 5 at once; at most this many sources
// remembered (past it the table starts again: a forger of addresses gets a fresh bucket, but
// not memory).
constexpr double kSourceRate = 20;
constexpr double kSourceBurst = 5;
constexpr size_t kMaxSources = 8192;

std::vector<uint8_t> source_bytes(const net::HostPort& from) {
  std::vector<uint8_t> out(from.address.bytes.begin(),
                           from.address.bytes.begin() + (from.address.family == 4 ? 4 : 16));
  out.push_back(static_cast<uint8_t>(from.port));
  out.push_back(static_cast<uint8_t>(from.port >> 8));
  return out;
}

template <size_t N>
std::vector<uint8_t> bytes_of(const std::array<uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

Handshaker::Handshaker(const Key& private_key, uint32_t max_handshakes_per_second)
    : max_handshakes_per_second_(max_handshakes_per_second) {
  const auto local = LocalIdentity::from_private(private_key);
  locals_.push_back({local, CookieChecker(local)});
}

std::optional<Key> Handshaker::previous_public_key() const {
  return locals_.size() > 1 ? std::optional<Key>(locals_[1].identity.public_key) : std::nullopt;
}

std::optional<Key> Handshaker::previous_public_key(PeerId peer) const {
  const auto& keys = peers_.at(peer).keys;
  return keys.size() > 1 ? std::optional<Key>(keys[1]) : std::nullopt;
}

std::optional<std::vector<std::vector<std::optional<Handshaker::Pairing>>>> Handshaker::pair(
    const std::vector<Key>& keys, const Key& preshared) const {
  std::vector<std::vector<std::optional<Pairing>>> out(locals_.size());
  for (size_t l = 0; l < locals_.size(); ++l) {
    for (const Key& key : keys) {
      auto identity = PeerIdentity::make(locals_[l].identity, key, preshared);
      out[l].push_back(identity
                           ? std::optional<Pairing>(Pairing{*identity, CookieGenerator(*identity)})
                           : std::nullopt);
    }
  }
  if (!out.front().front()) {
    return std::nullopt;  // the keys handshakes are made with have no usable DH
  }
  return out;
}

bool Handshaker::key_taken(const Key& key, std::optional<PeerId> except) const {
  for (const Local& l : locals_) {
    if (l.identity.public_key == key) {
      return true;
    }
  }
  const auto it = by_key_.find(key);
  return it != by_key_.end() && it->second != except;
}

bool Handshaker::set_identity(const Key& private_key, const std::optional<Key>& previous) {
  std::vector<Local> locals;
  for (const Key* k : {&private_key, previous ? &*previous : nullptr}) {
    if (k == nullptr || (!locals.empty() && *k == locals.front().identity.private_key)) {
      continue;
    }
    // A key kept keeps its cookie secret: nothing changes for that key's initiators.
    const auto same = std::find_if(locals_.begin(), locals_.end(),
                                   [&](const Local& l) { return l.identity.private_key == *k; });
    if (same != locals_.end()) {
      locals.push_back(*same);
    } else {
      const auto local = LocalIdentity::from_private(*k);
      locals.push_back({local, CookieChecker(local)});
    }
    if (by_key_.contains(locals.back().identity.public_key)) {
      return false;
    }
  }
  const bool same_current =
      locals.front().identity.private_key == locals_.front().identity.private_key;
  std::swap(locals_, locals);
  std::map<PeerId, std::vector<std::vector<std::optional<Pairing>>>> paired;
  for (const auto& [id, p] : peers_) {
    auto pairings = pair(p.keys, p.preshared);
    if (!pairings) {
      std::swap(locals_, locals);  // a peer's key of low order for the new one: no change
      return false;
    }
    paired.emplace(id, std::move(*pairings));
  }
  for (auto& [id, p] : peers_) {
    if (!same_current) {
      forget_handshake(id);  // made with the key that is going
    }
    p.pairings = std::move(paired.at(id));
  }
  return true;
}

std::optional<PeerId> Handshaker::add_peer(const Key& public_key, const Key& preshared_key,
                                           IndexShard shard) {
  auto pairings = pair({public_key}, preshared_key);
  if (!pairings || key_taken(public_key, std::nullopt) || shard.count == 0 ||
      shard.shard >= shard.count) {
    return std::nullopt;
  }
  const PeerId id = next_peer_++;
  peers_.emplace(id, Peer{.keys = {public_key},
                          .preshared = preshared_key,
                          .pairings = std::move(*pairings),
                          .shard = shard.count > 1 ? shard : IndexShard{}});
  by_key_[public_key] = id;
  return id;
}

bool Handshaker::set_peer_keys(PeerId id, const Key& public_key,
                               const std::optional<Key>& previous) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) {
    return false;
  }
  std::vector<Key> keys{public_key};
  if (previous && *previous != public_key) {
    keys.push_back(*previous);
  }
  for (const Key& k : keys) {
    if (key_taken(k, id)) {
      return false;
    }
  }
  auto pairings = pair(keys, it->second.preshared);
  if (!pairings) {
    return false;
  }
  Peer& p = it->second;
  if (p.keys.front() != public_key) {
    forget_handshake(id);  // sealed to the key that is going
  }
  for (const Key& k : p.keys) {
    by_key_.erase(k);
  }
  for (const Key& k : keys) {
    by_key_[k] = id;
  }
  p.keys = std::move(keys);
  p.pairings = std::move(*pairings);
  return true;
}

void Handshaker::remove_peer(PeerId id, bool keep_session_indexes) {
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    return;
  }
  forget_handshake(id);
  if (!keep_session_indexes) {
    std::erase_if(indexes_, [id](const auto& entry) { return entry.second.peer == id; });
  }
  for (const Key& k : it->second.keys) {
    by_key_.erase(k);
  }
  peers_.erase(it);
}

uint32_t Handshaker::new_index(PeerId peer, SlotKind kind) {
  const IndexShard shard = peers_.at(peer).shard;
  while (true) {
    std::array<uint8_t, 4> r{};
    random_bytes(r);
    const uint64_t drawn =
        uint32_t{r[0]} | uint32_t{r[1]} << 8 | uint32_t{r[2]} << 16 | uint32_t{r[3]} << 24;
    // Moved to the peer's shard (at most count - 1 up); past 32 bits, drawn again.
    const uint64_t moved = drawn - drawn % shard.count + shard.shard;
    const auto index = static_cast<uint32_t>(moved);
    if (moved <= UINT32_MAX && index != 0 && !indexes_.contains(index)) {
      indexes_[index] = Slot{peer, kind};
      return index;
    }
  }
}

void Handshaker::release(uint32_t index) {
  indexes_.erase(index);
}

std::optional<PeerId> Handshaker::session_owner(uint32_t index) const {
  const auto it = indexes_.find(index);
  if (it == indexes_.end() || it->second.kind != SlotKind::kSession ||
      !peers_.contains(it->second.peer)) {
    return std::nullopt;  // free, a handshake's, or kept for a removed peer's session
  }
  return it->second.peer;
}

bool Handshaker::handshake_pending(PeerId peer) const {
  const auto it = peers_.find(peer);
  return it != peers_.end() && it->second.pending.has_value();
}

void Handshaker::forget_handshake(PeerId peer) {
  const auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.pending) {
    return;
  }
  Peer& p = it->second;
  indexes_.erase(p.pending->local_index);
  p.pending->ephemeral_private.fill(0);
  p.pending.reset();
}

std::optional<InitiationBytes> Handshaker::initiate(PeerId id, TimerPoint now,
                                                    WallClock::time_point wall) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) {
    return std::nullopt;
  }
  forget_handshake(id);
  Peer& p = it->second;
  PendingInitiation pending;
  const uint32_t index = new_index(id, SlotKind::kPending);
  auto init = create_initiation(identity(), p.current().identity, index, tai64n(wall), pending);
  if (!init) {
    indexes_.erase(index);
    return std::nullopt;
  }
  p.pending = pending;
  auto bytes = encode(*init);
  p.current().cookies.seal(bytes, now);
  return bytes;
}

void Handshaker::count_handshake(TimerPoint now) {
  if (now - second_start_ >= seconds(1)) {
    second_start_ = now;
    second_count_ = 0;
  }
  if (++second_count_ > max_handshakes_per_second_) {
    loaded_until_ = now + seconds(1);
  }
}

bool Handshaker::under_load(TimerPoint now) const {
  return loaded_until_ && now < *loaded_until_;
}

bool Handshaker::source_allowed(const net::HostPort& from, TimerPoint now) {
  if (per_source_.size() >= kMaxSources) {
    per_source_.clear();
  }
  auto [it, fresh] = per_source_.try_emplace(from.address.bytes, Bucket{kSourceBurst, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(kSourceBurst,
                        b.tokens + std::chrono::duration<double>(now - b.at).count() * kSourceRate);
    b.at = now;
  }
  if (b.tokens < 1) {
    return false;
  }
  b.tokens -= 1;
  return true;
}

Handshaker::Taken Handshaker::take(std::span<const uint8_t> d, const net::HostPort& from,
                                   TimerPoint now) {
  Taken t;
  t.kind = classify(d);
  switch (t.kind) {
    case Classified::kInitiation:
      take_initiation(d, from, now, t);
      break;
    case Classified::kResponse:
      take_response(d, from, now, t);
      break;
    case Classified::kCookieReply:
      take_cookie_reply(d, now, t);
      break;
    default:
      t.dropped = std::string(name_of(t.kind));
  }
  return t;
}

bool Handshaker::admit(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                       Taken& t, size_t& local) {
  count_handshake(now);
  local = 0;
  while (local < locals_.size() && !locals_[local].checker.mac1_ok(d)) {
    ++local;
  }
  if (local == locals_.size()) {
    t.dropped = "bad_mac1";
    return false;
  }
  if (!under_load(now)) {
    return true;
  }
  CookieChecker& checker = locals_[local].checker;
  const auto source = source_bytes(from);
  if (!checker.mac2_ok(d, source, now)) {
    t.reply = bytes_of(encode(checker.reply(d, source, now)));
    t.dropped = "cookie_sent";
    return false;
  }
  if (!source_allowed(from, now)) {
    t.dropped = "source_rate_limited";  // a cookie holder sending at line rate
    return false;
  }
  return true;
}

void Handshaker::take_initiation(std::span<const uint8_t> d, const net::HostPort& from,
                                 TimerPoint now, Taken& t) {
  size_t local = 0;
  if (!admit(d, from, now, t, local)) {
    return;
  }
  Initiation m;
  decode(d, m);
  InitiationRefusal why{};
  PeerId id = 0;
  Pairing* pairing = nullptr;
  auto in = consume_initiation(
      locals_[local].identity, m,
      [&](const Key& k) -> const PeerIdentity* {
        const auto it = by_key_.find(k);
        if (it == by_key_.end()) {
          return nullptr;
        }
        id = it->second;
        Peer& p = peers_.at(id);
        const size_t key = std::find(p.keys.begin(), p.keys.end(), k) - p.keys.begin();
        auto& slot = p.pairings[local][key];
        pairing = slot ? &*slot : nullptr;
        return pairing != nullptr ? &pairing->identity : nullptr;
      },
      why);
  if (!in) {
    t.dropped = std::string(name_of(why));
    return;
  }
  Peer& p = peers_.at(id);
  if (!later(in->timestamp, p.last_timestamp)) {
    t.dropped = "stale_timestamp";
    return;
  }
  if (p.last_initiation_taken && now - *p.last_initiation_taken < kInitiationFloodInterval) {
    t.dropped = "handshake_flood";
    return;
  }
  const uint32_t index = new_index(id, SlotKind::kSession);
  auto answer = create_response(*in, index);
  if (!answer) {
    indexes_.erase(index);
    t.dropped = "low_order_key";
    return;
  }
  p.last_timestamp = in->timestamp;
  p.last_initiation_taken = now;
  auto bytes = encode(answer->response);
  pairing->cookies.seal(bytes, now);  // macs keyed to the key the initiator used
  t.reply = bytes_of(bytes);
  t.keys = answer->keys;
  t.peer = id;
}

void Handshaker::take_response(std::span<const uint8_t> d, const net::HostPort& from,
                               TimerPoint now, Taken& t) {
  size_t local = 0;
  if (!admit(d, from, now, t, local)) {
    return;
  }
  Response m;
  decode(d, m);
  const auto slot = indexes_.find(m.receiver);
  if (slot == indexes_.end() || slot->second.kind != SlotKind::kPending) {
    t.dropped = "no_handshake";
    return;
  }
  const PeerId id = slot->second.peer;
  Peer& p = peers_.at(id);
  // Our initiations are made with the current keys (a change drops the one pending).
  auto keys = p.pending && local == 0
                  ? consume_response(identity(), p.current().identity, *p.pending, m)
                  : std::nullopt;
  if (!keys) {
    t.dropped = "response_does_not_decrypt";
    return;
  }
  slot->second.kind = SlotKind::kSession;  // the pending index is the session's now
  p.pending->ephemeral_private.fill(0);
  p.pending.reset();
  t.keys = *keys;
  t.peer = id;
}

void Handshaker::take_cookie_reply(std::span<const uint8_t> d, TimerPoint now, Taken& t) {
  CookieReply reply;
  decode(d, reply);
  const auto slot = indexes_.find(reply.receiver);
  const auto peer = slot == indexes_.end() ? peers_.end() : peers_.find(slot->second.peer);
  // The cookie answers whichever pairing sealed the message: our initiation (the current
  // one) or a response made as a previous key during a grace.
  bool taken = false;
  if (peer != peers_.end()) {
    for (auto& row : peer->second.pairings) {
      for (auto& pairing : row) {
        taken = taken || (pairing && pairing->cookies.consume(reply, now));
      }
    }
  }
  if (!taken) {
    t.dropped = "bad_cookie_reply";
    return;
  }
  t.peer = slot->second.peer;
}

}  // namespace vigil::wg

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
    : max_handshakes_per_second_(max_handshakes_per_second),
      local_(LocalIdentity::from_private(private_key)),
      checker_(local_) {}

std::optional<PeerId> Handshaker::add_peer(const Key& public_key, const Key& preshared_key,
                                           IndexShard shard) {
  auto identity = PeerIdentity::make(local_, public_key, preshared_key);
  if (!identity || by_key_.contains(public_key) || public_key == local_.public_key ||
      shard.count == 0 || shard.shard >= shard.count) {
    return std::nullopt;
  }
  const PeerId id = next_peer_++;
  peers_.emplace(id, Peer{.identity = *identity,
                          .cookies = CookieGenerator(*identity),
                          .shard = shard.count > 1 ? shard : IndexShard{}});
  by_key_[public_key] = id;
  return id;
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
  by_key_.erase(it->second.identity.public_key);
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
  auto init = create_initiation(local_, p.identity, index, tai64n(wall), pending);
  if (!init) {
    indexes_.erase(index);
    return std::nullopt;
  }
  p.pending = pending;
  auto bytes = encode(*init);
  p.cookies.seal(bytes, now);
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
                       Taken& t) {
  count_handshake(now);
  if (!checker_.mac1_ok(d)) {
    t.dropped = "bad_mac1";
    return false;
  }
  if (!under_load(now)) {
    return true;
  }
  const auto source = source_bytes(from);
  if (!checker_.mac2_ok(d, source, now)) {
    t.reply = bytes_of(encode(checker_.reply(d, source, now)));
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
  if (!admit(d, from, now, t)) {
    return;
  }
  Initiation m;
  decode(d, m);
  InitiationRefusal why{};
  PeerId id = 0;
  auto in = consume_initiation(
      local_, m,
      [&](const Key& k) -> const PeerIdentity* {
        const auto it = by_key_.find(k);
        if (it == by_key_.end()) {
          return nullptr;
        }
        id = it->second;
        return &peers_.at(id).identity;
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
  p.cookies.seal(bytes, now);
  t.reply = bytes_of(bytes);
  t.keys = answer->keys;
  t.peer = id;
}

void Handshaker::take_response(std::span<const uint8_t> d, const net::HostPort& from,
                               TimerPoint now, Taken& t) {
  if (!admit(d, from, now, t)) {
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
  auto keys = p.pending ? consume_response(local_, p.identity, *p.pending, m) : std::nullopt;
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
  if (peer == peers_.end() || !peer->second.cookies.consume(reply, now)) {
    t.dropped = "bad_cookie_reply";
    return;
  }
  t.peer = slot->second.peer;
}

}  // namespace vigil::wg

#include "sdwan/wireguard/device.h"

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

milliseconds random_jitter() {
  std::array<uint8_t, 2> r{};
  random_bytes(r);
  return milliseconds((r[0] | r[1] << 8) % kRekeyTimeoutJitterMax.count());
}

template <size_t N>
std::vector<uint8_t> bytes_of(const std::array<uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

Device::Device(DeviceSettings settings)
    : settings_(std::move(settings)),
      local_(LocalIdentity::from_private(settings_.private_key)),
      checker_(local_) {
  if (!settings_.jitter) {
    settings_.jitter = random_jitter;
  }
}

std::optional<PeerId> Device::add_peer(const PeerSettings& s) {
  auto identity = PeerIdentity::make(local_, s.public_key, s.preshared_key);
  if (!identity || by_key_.contains(s.public_key) || s.public_key == local_.public_key) {
    return std::nullopt;
  }
  const PeerId id = next_peer_++;
  Peer p{.identity = *identity,
         .cookies = CookieGenerator(*identity),
         .timers = PeerTimers(settings_.jitter, s.persistent_keepalive),
         .endpoint = s.endpoint};
  p.status.public_key = s.public_key;
  peers_.emplace(id, std::move(p));
  by_key_[s.public_key] = id;
  return id;
}

void Device::remove_peer(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    return;
  }
  Peer& p = it->second;
  forget(p.current);
  forget(p.previous);
  forget(p.next);
  forget_handshake(p);
  allowed_.remove_peer(id);
  by_key_.erase(p.identity.public_key);
  peers_.erase(it);
}

uint32_t Device::new_index(PeerId peer, SlotKind kind) {
  while (true) {
    std::array<uint8_t, 4> r{};
    random_bytes(r);
    const uint32_t index =
        uint32_t{r[0]} | uint32_t{r[1]} << 8 | uint32_t{r[2]} << 16 | uint32_t{r[3]} << 24;
    if (index != 0 && !indexes_.contains(index)) {
      indexes_[index] = Slot{peer, kind};
      return index;
    }
  }
}

void Device::forget(std::optional<Session>& s) {
  if (s) {
    indexes_.erase(s->transport.keys().local_index);
    s.reset();
  }
}

void Device::forget_handshake(Peer& p) {
  if (p.pending) {
    indexes_.erase(p.pending->local_index);
    p.pending->ephemeral_private.fill(0);
    p.pending.reset();
  }
}

bool Device::source_allowed(const net::HostPort& from, TimerPoint now) {
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

void Device::drop(Received& r, const std::string& why) {
  r.dropped = why;
  ++drops_[why];
}

std::vector<uint8_t> Device::source_bytes(const net::HostPort& from) {
  std::vector<uint8_t> out(from.address.bytes.begin(),
                           from.address.bytes.begin() + (from.address.family == 4 ? 4 : 16));
  out.push_back(static_cast<uint8_t>(from.port));
  out.push_back(static_cast<uint8_t>(from.port >> 8));
  return out;
}

void Device::count_handshake(TimerPoint now) {
  if (now - second_start_ >= seconds(1)) {
    second_start_ = now;
    second_count_ = 0;
  }
  if (++second_count_ > settings_.max_handshakes_per_second) {
    loaded_until_ = now + seconds(1);
  }
}

bool Device::under_load(TimerPoint now) const {
  return loaded_until_ && now < *loaded_until_;
}

std::optional<Datagram> Device::initiate(Peer& p, PeerId id, TimerPoint now,
                                         WallClock::time_point wall) {
  if (!p.endpoint) {
    ++drops_["no_endpoint"];
    return std::nullopt;
  }
  forget_handshake(p);
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
  p.timers.initiation_sent(now);
  ++p.status.handshakes_sent;
  return Datagram{bytes_of(bytes), *p.endpoint};
}

std::optional<Datagram> Device::seal(Peer& p, std::span<const uint8_t> packet, TimerPoint now) {
  if (!p.current || !p.endpoint ||
      !session_usable(p.current->made, p.current->transport.sent(), now)) {
    return std::nullopt;
  }
  Datagram d{std::vector<uint8_t>(sealed_size(packet.size())), *p.endpoint};
  const size_t n = p.current->transport.seal(packet, d.bytes);
  if (n == 0) {
    return std::nullopt;
  }
  d.bytes.resize(n);
  p.timers.authenticated_sent(now);
  if (!packet.empty()) {
    p.timers.data_sent(now);
  }
  p.status.tx_bytes += n;
  return d;
}

void Device::flush_staged(Peer& p, TimerPoint now, std::vector<Datagram>& out) {
  for (const auto& packet : p.staged) {
    if (auto d = seal(p, packet, now)) {
      out.push_back(std::move(*d));
    }
  }
  p.staged.clear();
}

std::vector<Datagram> Device::send(PeerId id, std::span<const uint8_t> packet, TimerPoint now,
                                   WallClock::time_point wall) {
  std::vector<Datagram> out;
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    return out;
  }
  Peer& p = it->second;
  if (auto d = seal(p, packet, now)) {
    out.push_back(std::move(*d));
    const Session& s = *p.current;
    if (rekey_on_send(s.transport.keys().initiator, s.made, s.transport.sent(), now) &&
        p.timers.may_initiate(now)) {
      if (auto init = initiate(p, id, now, wall)) {
        out.push_back(std::move(*init));
      }
    }
    return out;
  }
  if (p.staged.size() >= settings_.max_staged) {
    p.staged.erase(p.staged.begin());  // the oldest goes, as wireguard-go's staged queue
  }
  p.staged.emplace_back(packet.begin(), packet.end());
  if (p.timers.may_initiate(now)) {
    if (auto init = initiate(p, id, now, wall)) {
      out.push_back(std::move(*init));
    }
  }
  return out;
}

Device::Received Device::receive(std::span<const uint8_t> d, const net::HostPort& from,
                                 TimerPoint now, WallClock::time_point wall) {
  Received r;
  switch (classify(d)) {
    case Classified::kInitiation:
      take_initiation(d, from, now, r);
      break;
    case Classified::kResponse:
      take_response(d, from, now, wall, r);
      break;
    case Classified::kCookieReply: {
      CookieReply reply;
      decode(d, reply);
      const auto slot = indexes_.find(reply.receiver);
      if (slot == indexes_.end() || !peers_.at(slot->second.peer).cookies.consume(reply, now)) {
        drop(r, "bad_cookie_reply");
      } else {
        r.from = slot->second.peer;
      }
      break;
    }
    case Classified::kTransport:
      take_transport(d, from, now, wall, r);
      break;
    default:
      drop(r, std::string(name_of(classify(d))));
  }
  return r;
}

bool Device::admit_handshake(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                             Received& r) {
  count_handshake(now);
  if (!checker_.mac1_ok(d)) {
    drop(r, "bad_mac1");
    return false;
  }
  if (!under_load(now)) {
    return true;
  }
  const auto source = source_bytes(from);
  if (!checker_.mac2_ok(d, source, now)) {
    r.replies.push_back(Datagram{bytes_of(encode(checker_.reply(d, source, now))), from});
    drop(r, "cookie_sent");
    return false;
  }
  if (!source_allowed(from, now)) {
    drop(r, "source_rate_limited");  // a cookie holder sending at line rate
    return false;
  }
  return true;
}

void Device::take_initiation(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                             Received& r) {
  if (!admit_handshake(d, from, now, r)) {
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
    return drop(r, std::string(name_of(why)));
  }
  Peer& p = peers_.at(id);
  if (!later(in->timestamp, p.last_timestamp)) {
    return drop(r, "stale_timestamp");
  }
  if (p.last_initiation_taken && now - *p.last_initiation_taken < kInitiationFloodInterval) {
    return drop(r, "handshake_flood");
  }
  const uint32_t index = new_index(id, SlotKind::kSession);
  auto answer = create_response(*in, index);
  if (!answer) {
    indexes_.erase(index);
    return drop(r, "low_order_key");
  }
  // Made before anything changes: its contexts may fail to allocate (an exception).
  std::optional<Session> fresh;
  try {
    fresh.emplace(Session{.transport = TransportSession(answer->keys), .made = now});
  } catch (...) {
    indexes_.erase(index);
    throw;
  }
  p.last_timestamp = in->timestamp;
  p.last_initiation_taken = now;
  p.endpoint = from;
  forget(p.next);
  p.next = std::move(fresh);
  auto bytes = encode(answer->response);
  p.cookies.seal(bytes, now);
  r.replies.push_back(Datagram{bytes_of(bytes), from});
  ++p.status.handshakes_received;
  p.timers.authenticated_received(now, false);
  p.timers.authenticated_sent(now);
  r.from = id;
}

void Device::take_response(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                           WallClock::time_point wall, Received& r) {
  if (!admit_handshake(d, from, now, r)) {
    return;
  }
  Response m;
  decode(d, m);
  const auto slot = indexes_.find(m.receiver);
  if (slot == indexes_.end() || slot->second.kind != SlotKind::kPending) {
    return drop(r, "no_handshake");
  }
  const PeerId id = slot->second.peer;
  Peer& p = peers_.at(id);
  auto keys = p.pending ? consume_response(local_, p.identity, *p.pending, m) : std::nullopt;
  if (!keys) {
    return drop(r, "response_does_not_decrypt");
  }
  Session fresh{.transport = TransportSession(*keys), .made = now};  // before changing anything
  slot->second.kind = SlotKind::kSession;  // the pending index is the session's now
  p.pending->ephemeral_private.fill(0);
  p.pending.reset();
  // As wireguard-go and the kernel: an unconfirmed session of ours as responder (both sides
  // initiated at once) becomes the previous one, which the peer may be sending on, and the
  // current one goes; else the current one becomes the previous.
  forget(p.previous);
  if (p.next) {
    p.previous = std::move(p.next);
    p.next.reset();
    forget(p.current);
  } else {
    p.previous = std::move(p.current);
  }
  p.current = std::move(fresh);
  p.endpoint = from;
  p.status.latest_handshake = wall;
  ++p.status.handshakes_received;
  p.timers.handshake_complete(now);
  p.timers.authenticated_received(now, false);
  flush_staged(p, now, r.replies);
  if (r.replies.empty()) {
    // The responder uses the session only once it hears on it: a keepalive says so.
    if (auto keepalive = seal(p, {}, now)) {
      r.replies.push_back(std::move(*keepalive));
    }
  }
  r.from = id;
}

void Device::take_transport(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                            WallClock::time_point wall, Received& r) {
  TransportHeader h;
  decode(d, h);
  const auto slot = indexes_.find(h.receiver);
  if (slot == indexes_.end() || slot->second.kind != SlotKind::kSession) {
    return drop(r, "no_session");
  }
  const PeerId id = slot->second.peer;
  Peer& p = peers_.at(id);
  std::optional<Session>* session = nullptr;
  for (auto* s : {&p.current, &p.next, &p.previous}) {
    if (*s && (*s)->transport.keys().local_index == h.receiver) {
      session = s;
    }
  }
  if (session == nullptr || !session_usable((*session)->made, 0, now)) {
    return drop(r, "no_session");
  }
  std::vector<uint8_t> out(d.size());
  size_t length = 0;
  const OpenResult opened = (*session)->transport.open(d, out, length);
  if (opened != OpenResult::kOk) {
    return drop(r, std::string(name_of(opened)));
  }
  if (session == &p.next) {
    // The initiator used our response's session: it is confirmed, and the current one.
    forget(p.previous);
    p.previous = std::move(p.current);
    p.current = std::move(p.next);
    p.next.reset();
    p.status.latest_handshake = wall;
    p.timers.handshake_complete(now);
    flush_staged(p, now, r.replies);
  }
  p.endpoint = from;  // roaming: the peer is where its last authenticated packet came from
  p.status.rx_bytes += d.size();
  p.timers.authenticated_received(now, length > 0);
  r.from = id;
  if (p.current && rekey_on_receive(p.current->transport.keys().initiator, p.current->made, now) &&
      p.timers.may_initiate(now)) {
    if (auto init = initiate(p, id, now, wall)) {
      r.replies.push_back(std::move(*init));
    }
  }
  if (length == 0) {
    return;  // a keepalive
  }
  // The packet's own length (padding off), and its source must be one the peer may use.
  size_t size = 0;
  const uint8_t* src = nullptr;
  int family = 0;
  if ((out[0] >> 4) == 4 && length >= 20) {
    size = static_cast<size_t>(out[2] << 8 | out[3]);
    src = &out[12];
    family = 4;
  } else if ((out[0] >> 4) == 6 && length >= 40) {
    size = 40 + static_cast<size_t>(out[4] << 8 | out[5]);
    src = &out[8];
    family = 6;
  }
  if (family == 0 || size > length || size < (family == 4 ? 20u : 40u)) {
    return drop(r, "malformed_packet");
  }
  if (allowed_.lookup(family, src) != id) {
    return drop(r, "source_not_allowed");
  }
  out.resize(size);
  r.packet = std::move(out);
}

std::vector<Datagram> Device::tick(TimerPoint now, WallClock::time_point wall) {
  std::vector<Datagram> out;
  for (auto& [id, p] : peers_) {
    for (auto* s : {&p.current, &p.previous, &p.next}) {
      if (*s && !session_usable((*s)->made, 0, now)) {
        forget(*s);  // REJECT_AFTER_TIME: no packet is sealed or taken under it any more
      }
    }
    const TimerActions a = p.timers.due(now);
    if (a.give_up_handshake) {
      p.staged.clear();
    }
    if (a.zero_keys) {
      forget(p.current);
      forget(p.previous);
      forget(p.next);
      forget_handshake(p);
      p.staged.clear();
    }
    if (a.send_initiation) {
      if (auto init = initiate(p, id, now, wall)) {
        out.push_back(std::move(*init));
      }
    }
    if (a.send_keepalive) {
      if (auto keepalive = seal(p, {}, now)) {
        out.push_back(std::move(*keepalive));
      }
    }
  }
  return out;
}

PeerStatus Device::status(PeerId id) const {
  const Peer& p = peers_.at(id);
  PeerStatus s = p.status;
  s.endpoint = p.endpoint;
  s.has_session = p.current.has_value();
  s.handshake_pending = p.pending.has_value();
  return s;
}

}  // namespace vigil::wg

#include "sdwan/wireguard/device.h"

#include <algorithm>

namespace vigil::wg {
namespace {

template <size_t N>
std::vector<uint8_t> bytes_of(const std::array<uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

Device::Device(DeviceSettings settings)
    : settings_(std::move(settings)),
      handshakes_(settings_.private_key, settings_.max_handshakes_per_second) {}

std::optional<PeerId> Device::add_peer(const PeerSettings& s) {
  const auto id = handshakes_.add_peer(s.public_key, s.preshared_key);
  if (!id) {
    return std::nullopt;
  }
  Peer p{.timers = PeerTimers(settings_.jitter, s.persistent_keepalive), .endpoint = s.endpoint};
  p.status.public_key = s.public_key;
  peers_.emplace(*id, std::move(p));
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
  handshakes_.remove_peer(id);
  allowed_.remove_peer(id);
  peers_.erase(it);
}

void Device::forget(std::optional<Session>& s) {
  if (s) {
    handshakes_.release(s->transport.keys().local_index);
    s.reset();
  }
}

void Device::drop(Received& r, const std::string& why) {
  r.dropped = why;
  ++drops_[why];
}

std::optional<Datagram> Device::initiate(Peer& p, PeerId id, TimerPoint now,
                                         WallClock::time_point wall) {
  if (!p.endpoint) {
    ++drops_["no_endpoint"];
    return std::nullopt;
  }
  auto bytes = handshakes_.initiate(id, now, wall);
  if (!bytes) {
    return std::nullopt;
  }
  p.timers.initiation_sent(now);
  ++p.status.handshakes_sent;
  return Datagram{bytes_of(*bytes), *p.endpoint};
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
  if (classify(d) == Classified::kTransport) {
    take_transport(d, from, now, wall, r);
    return r;
  }
  Handshaker::Taken t = handshakes_.take(d, from, now);
  if (!t.reply.empty()) {
    r.replies.push_back(Datagram{std::move(t.reply), from});
  }
  if (!t.dropped.empty()) {
    drop(r, t.dropped);
    return r;
  }
  r.from = t.peer;
  if (t.keys) {
    install(*t.peer, *t.keys, from, now, wall, r);
  }
  return r;
}

void Device::install(PeerId id, const SessionKeys& keys, const net::HostPort& from, TimerPoint now,
                     WallClock::time_point wall, Received& r) {
  Peer& p = peers_.at(id);
  std::optional<Session> fresh;
  try {
    fresh.emplace(Session{.transport = TransportSession(keys), .made = now});
  } catch (...) {
    handshakes_.release(keys.local_index);  // its contexts did not allocate: no session
    throw;
  }
  p.endpoint = from;
  ++p.status.handshakes_received;
  if (!keys.initiator) {
    // Ours until the initiator uses it (take_transport), which confirms it.
    forget(p.next);
    p.next = std::move(fresh);
    p.timers.authenticated_received(now, false);
    p.timers.authenticated_sent(now);
    return;
  }
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
  p.status.latest_handshake = wall;
  p.timers.handshake_complete(now);
  p.timers.authenticated_received(now, false);
  flush_staged(p, now, r.replies);
  if (r.replies.empty()) {
    // The responder uses the session only once it hears on it: a keepalive says so.
    if (auto keepalive = seal(p, {}, now)) {
      r.replies.push_back(std::move(*keepalive));
    }
  }
}

void Device::take_transport(std::span<const uint8_t> d, const net::HostPort& from, TimerPoint now,
                            WallClock::time_point wall, Received& r) {
  TransportHeader h;
  decode(d, h);
  const auto owner = handshakes_.session_owner(h.receiver);
  if (!owner) {
    return drop(r, "no_session");
  }
  const PeerId id = *owner;
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
      handshakes_.forget_handshake(id);
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
  s.handshake_pending = handshakes_.handshake_pending(id);
  return s;
}

}  // namespace vigil::wg

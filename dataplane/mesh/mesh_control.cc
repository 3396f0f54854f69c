#include "dataplane/mesh/mesh_control.h"

#include <netdb.h>
#include <rte_mbuf.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/logging.h"
#include "common/utc_time.h"
#include "dataplane/mesh/path_classes.h"

namespace vigil::dp {
namespace {

using std::chrono::nanoseconds;

MeshControl::Clock::time_point at_ns(int64_t ns) {
  return MeshControl::Clock::time_point(
      std::chrono::duration_cast<MeshControl::Clock::duration>(nanoseconds(ns)));
}

int64_t ns_of(MeshControl::Clock::time_point t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}

int64_t unix_seconds(wg::WallClock::time_point wall) {
  return std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
}

Expected<net::IpAddress> getaddrinfo_resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found); rc != 0) {
    return fail(name + " does not resolve: " + gai_strerror(rc));
  }
  net::IpAddress a;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      a.family = 4;
      std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
      break;  // IPv4 first: most WAN links have it
    }
    if (ai->ai_family == AF_INET6 && a.family == 0) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      a.family = 6;
      std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
    }
  }
  ::freeaddrinfo(found);
  if (a.family == 0) {
    return fail(name + " has no IPv4 or IPv6 address");
  }
  return a;
}

}  // namespace

MeshControl::MeshControl(std::vector<MeshChannel*> channels, TunnelTables& tables,
                         TunnelPeerStats* stats, rte_mempool* pool, PortId tunnel_port,
                         uint16_t mtu, Resolve resolve)
    : channels_(std::move(channels)),
      tables_(tables),
      stats_(stats),
      pool_(pool),
      tunnel_port_(tunnel_port),
      mtu_(mtu),
      resolve_(resolve ? std::move(resolve) : getaddrinfo_resolve),
      resolver_(std::make_unique<WorkerPool>(1, 2 * kMaxMeshPeers)) {}

MeshControl::~MeshControl() {
  resolver_.reset();  // no lookup finishes into a half-destroyed object
}

MeshControl::Peer* MeshControl::by_slot(uint16_t slot) {
  for (auto& [name, p] : peers_) {
    if (p.slot == slot) {
      return &p;
    }
  }
  return nullptr;
}

bool MeshControl::command(const MeshCommand& c, size_t shard) {
  // The ring holds 2,048 and the lcore drains 64 a loop: full means the lcore is gone. A
  // session or packet that does not go is freed, never leaked, its index with it.
  MeshChannel& to = *channels_[c.kind == MeshCommand::Kind::kSend ? shard : owner(c.slot)];
  if (to.command(c)) {
    return true;
  }
  rte_pktmbuf_free(c.packet);
  if (c.session != nullptr) {
    release_index(c.session->keys().local_index);
    delete c.session;
  }
  ++rejects_["command_queue_full"];
  return false;
}

void MeshControl::release_index(uint32_t index) {
  // Only indexes of this handshaker's sessions: a session from before a new identity, handed
  // back late, frees nothing of the new one's.
  if (owned_indexes_.erase(index) > 0) {
    tables_.indexes().remove(index);
    if (handshakes_) {
      handshakes_->release(index);
    }
  }
}

void MeshControl::forget_owned_indexes() {
  // Sessions of an identity that is gone: the lcores drop what comes for them from now on
  // (they hand them back later, freeing nothing of the next identity's).
  for (const auto& [index, owned] : owned_indexes_) {
    tables_.indexes().remove(index);
  }
  owned_indexes_.clear();
}

void MeshControl::send(const std::vector<uint8_t>& bytes, const TunnelEndpoint& to, size_t shard) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    ++rejects_["no_mbuf"];
    return;
  }
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return;
  }
  std::memcpy(data, bytes.data(), bytes.size());
  command({.kind = MeshCommand::Kind::kSend, .packet = m, .endpoint = to}, shard);
}

std::vector<std::string> MeshControl::peer_names() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : peers_) {
    names.push_back(name);
  }
  return names;
}

void MeshControl::stop() {
  remove_peers(peer_names(), /*publish_table=*/false);
  tables_.publish(nullptr);
  send_removals();
  plan_.reset();
  handshakes_.reset();
  grace_ends_.reset();
  forget_owned_indexes();
}

void MeshControl::remove_peers(const std::vector<std::string>& names, bool publish_table) {
  for (const auto& name : names) {
    auto it = peers_.find(name);
    if (it == peers_.end()) {
      continue;
    }
    // Its sessions' indexes stay taken until the lcore hands the sessions back (kRetired).
    handshakes_->remove_peer(it->second.id, /*keep_session_indexes=*/true);
    removed_slots_.push_back(it->second.slot);
    peers_.erase(it);
  }
  if (publish_table && !removed_slots_.empty()) {
    publish();
    send_removals();
  }
}

void MeshControl::send_removals() {
  // After the table without them is published (and every lcore is past the old one): nothing
  // can be staged in these slots any more, so emptying them leaves nothing behind.
  for (uint16_t slot : removed_slots_) {
    command({.kind = MeshCommand::Kind::kRemove, .slot = slot});
    slot_used_[slot] = false;
  }
  removed_slots_.clear();
}

bool MeshControl::sync_keys(wg::WallClock::time_point wall, std::vector<std::string>* failed) {
  const int64_t now = unix_seconds(wall);
  grace_ends_.reset();
  if (!plan_ || !handshakes_) {
    return false;  // no mesh
  }
  const auto lasting = [&](const std::optional<wg::Key>& key,
                           int64_t until) -> std::optional<wg::Key> {
    if (!key || now >= until) {
      return std::nullopt;
    }
    grace_ends_ = std::min(grace_ends_.value_or(until), until);
    return key;
  };
  const auto previous = lasting(plan_->previous_private_key, plan_->previous_key_until);
  const auto previous_public =
      previous ? std::optional<wg::Key>(wg::public_key_of(*previous)) : std::nullopt;
  bool ok = true;
  if (handshakes_->identity().private_key != plan_->private_key ||
      handshakes_->previous_public_key() != previous_public) {
    ok = handshakes_->set_identity(plan_->private_key, previous);
    if (ok) {
      log::info("mesh key changed in place",
                {{"previous_answered", previous.has_value()}, {"sessions", "kept"}});
    }
  }
  for (auto& [name, p] : peers_) {
    const auto peer_previous = lasting(p.plan.previous_public_key, p.plan.previous_key_until);
    if (handshakes_->public_key(p.id) == p.plan.public_key &&
        handshakes_->previous_public_key(p.id) == peer_previous) {
      continue;
    }
    if (handshakes_->set_peer_keys(p.id, p.plan.public_key, peer_previous)) {
      continue;
    }
    if (failed != nullptr) {
      failed->push_back(name);  // apply() starts it over
    } else {
      log::error("mesh peer keys not changed", {{"peer", name}});
      ++rejects_["key_change_refused"];
    }
  }
  return ok;
}

void MeshControl::apply(const MeshPlan& plan, uint16_t mtu) {
  const auto now = Clock::now();
  const auto wall = wg::WallClock::now();
  mtu_ = mtu;
  std::map<std::string, const MeshPeerPlan*> wanted;
  for (const MeshPeerPlan& p : plan.peers) {
    wanted[p.name] = &p;
  }
  std::vector<std::string> gone;
  std::vector<std::string> rekeyed;  // changed key, in place: a handshake proves it at once
  for (const auto& [name, p] : peers_) {
    const auto it = wanted.find(name);
    if (it == wanted.end() || it->second->preshared_key != p.plan.preshared_key) {
      gone.push_back(name);  // a changed preshared key is another peer
    } else if (it->second->public_key != p.plan.public_key) {
      // A rotation names the key it replaces; any other new key is another box under the
      // name (a replacement, a key edited by hand): its sessions must not carry on.
      if (it->second->previous_public_key == p.plan.public_key) {
        rekeyed.push_back(name);
      } else {
        gone.push_back(name);
      }
    }
  }
  if (handshakes_) {
    remove_peers(gone, /*publish_table=*/true);
  }
  const bool restart = !plan_ || plan_->cookie_threshold != plan.cookie_threshold;
  plan_ = plan;
  for (auto& [name, p] : peers_) {
    p.plan.public_key = wanted.at(name)->public_key;  // for sync_keys; the rest below
    p.plan.previous_public_key = wanted.at(name)->previous_public_key;
    p.plan.previous_key_until = wanted.at(name)->previous_key_until;
  }
  std::vector<std::string> failed;
  if (restart || !sync_keys(wall, &failed)) {
    // A new load limit (or a key that cannot change in place): every peer starts over.
    if (handshakes_) {
      remove_peers(peer_names(), /*publish_table=*/true);
    }
    handshakes_ = std::make_unique<wg::Handshaker>(plan.private_key, plan.cookie_threshold);
    forget_owned_indexes();
    failed.clear();
    rekeyed.clear();
    sync_keys(wall);
  }
  // Keys that cannot move in place (one peer taking another's): those peers start over.
  remove_peers(failed, /*publish_table=*/true);
  for (const MeshPeerPlan& wanted_peer : plan.peers) {
    auto it = peers_.find(wanted_peer.name);
    if (it == peers_.end()) {
      add_peer(wanted_peer, now);
      continue;
    }
    Peer& p = it->second;
    const bool endpoints_changed = p.plan.endpoints != wanted_peer.endpoints;
    if (p.plan.persistent_keepalive != wanted_peer.persistent_keepalive) {
      p.timers = wg::PeerTimers(
          {}, wanted_peer.persistent_keepalive > 0
                  ? std::optional<wg::seconds>(wg::seconds(wanted_peer.persistent_keepalive))
                  : std::nullopt);
    }
    p.plan = wanted_peer;
    if (endpoints_changed && !p.plan.endpoints.empty()) {
      choose_endpoint(p, 0, now);
    }
    if (std::find(rekeyed.begin(), rekeyed.end(), wanted_peer.name) != rekeyed.end() &&
        std::find(failed.begin(), failed.end(), wanted_peer.name) == failed.end()) {
      log::info("mesh peer key changed in place", {{"peer", wanted_peer.name}});
      initiate(p, now, wall, "peer_key_changed");
    }
  }
  sync_keys(wall);  // the peers just added, with their previous keys
  publish();
}

void MeshControl::add_peer(const MeshPeerPlan& plan, Clock::time_point now) {
  uint16_t slot = 0;
  while (slot < kMaxMeshPeers && slot_used_[slot]) {
    ++slot;
  }
  const auto id =
      handshakes_->add_peer(plan.public_key, plan.preshared_key,
                            {.shard = static_cast<uint32_t>(owner(slot < kMaxMeshPeers ? slot : 0)),
                             .count = static_cast<uint32_t>(channels_.size())});
  if (slot == kMaxMeshPeers || !id) {
    // The config allows neither (256 peers, distinct keys, not ours): checked at prepare.
    log::error("mesh peer not added", {{"peer", plan.name}});
    return;
  }
  slot_used_[slot] = true;
  // A slot another peer had was emptied by the lcore (kRemove), its counters zeroed there.
  TunnelPeerStats& s = stats_[slot];
  Peer p{.plan = plan,
         .slot = slot,
         .id = *id,
         .timers = wg::PeerTimers(
             {}, plan.persistent_keepalive > 0
                     ? std::optional<wg::seconds>(wg::seconds(plan.persistent_keepalive))
                     : std::nullopt),
         .seen_rx_ns = s.last_rx_ns.load(),
         .seen_data_rx_ns = s.last_data_rx_ns.load(),
         .seen_tx_ns = s.last_tx_ns.load(),
         .seen_data_tx_ns = s.last_data_tx_ns.load()};
  auto [it, fresh] = peers_.emplace(plan.name, std::move(p));
  if (!it->second.plan.endpoints.empty()) {
    choose_endpoint(it->second, 0, now);
  }
}

void MeshControl::publish() {
  auto table = std::make_unique<TunnelTable>();
  table->listen_port = plan_ ? plan_->listen_port : 0;
  table->tunnel_port = tunnel_port_;
  table->mtu = mtu_;
  for (const auto& [name, p] : peers_) {
    table->active[p.slot] = true;
    for (const net::Prefix& prefix : p.plan.allowed_ips) {
      table->allowed.insert(prefix, p.slot);
    }
  }
  table->generation = ++generation_;
  if (plan_) {
    for (const WanLink& link : plan_->links) {
      TunnelLink& l = table->links[table->link_count++];
      l.port = link.port;
      if (link.v4) {
        l.has_v4 = true;
        std::memcpy(l.v4, link.v4->source.bytes.data(), 4);
      }
      if (link.v6) {
        l.has_v6 = true;
        std::memcpy(l.v6, link.v6->source.bytes.data(), 16);
      }
    }
    table->classes = path_classes_for(plan_->policies, plan_->links);
    table->paths.resize(kMaxMeshPeers);
    for (auto& [name, p] : peers_) {
      plan_paths(p, table->paths[p.slot]);
    }
  }
  tables_.publish(std::move(table));
}

void MeshControl::plan_paths(Peer& p, TunnelPeerPaths& out) {
  // Links in the config's order, each toward the peer's endpoints in theirs: the order of
  // preference. Endpoints given by name are left out (their address is known only while the
  // handshake uses them).
  std::vector<PathRecord> records;
  if (p.plan.probe_interval_ms > 0) {
    out.interval_ms = static_cast<uint16_t>(p.plan.probe_interval_ms);
    for (size_t l = 0; l < plan_->links.size(); ++l) {
      const WanLink& link = plan_->links[l];
      for (size_t e = 0; e < p.plan.endpoints.size() && out.count < paths::kMaxPaths; ++e) {
        const auto address = net::IpAddress::parse(p.plan.endpoints[e].host);
        if (!address) {
          continue;
        }
        const auto next_hop = link.next_hop(*address);
        if (!next_hop) {
          continue;  // no address in the family, or no gateway to reach it
        }
        TunnelPath& path = out.path[out.count++];
        path.link = static_cast<uint8_t>(l);
        path.endpoint = static_cast<uint8_t>(e);
        path.to = TunnelEndpoint::from({*address, p.plan.endpoints[e].port});
        std::memcpy(path.next_hop, next_hop->bytes.data(), next_hop->family == 4 ? 4 : 16);
        PathRecord r{.link = link.name, .endpoint = p.plan.endpoints[e].to_string()};
        // What was known of the same path stays (the lcore keeps its state too).
        for (const PathRecord& old : p.paths) {
          if (old.link == r.link && old.endpoint == r.endpoint) {
            r = old;
          }
        }
        if (p.preferred && p.preferred->first == r.link && p.preferred->second == r.endpoint) {
          out.preferred = static_cast<int8_t>(records.size());
        }
        records.push_back(std::move(r));
      }
    }
  }
  p.paths = std::move(records);
}

Status MeshControl::prefer(const std::string& peer, const std::optional<std::string>& link,
                           const std::optional<std::string>& endpoint) {
  const auto it = peers_.find(peer);
  if (it == peers_.end()) {
    return fail("no mesh peer named \"" + peer + "\"");
  }
  Peer& p = it->second;
  if (!link) {
    if (p.preferred) {
      log::info("mesh path chosen by the probes again", {{"peer", peer}});
    }
    p.preferred.reset();
    publish();
    return Ok{};
  }
  std::string listed;
  for (const PathRecord& r : p.paths) {
    if (r.link == *link && (!endpoint || r.endpoint == *endpoint)) {
      p.preferred = std::pair(r.link, r.endpoint);
      log::info("mesh path preferred by hand",
                {{"peer", peer}, {"link", r.link}, {"endpoint", r.endpoint}});
      publish();
      return Ok{};
    }
    listed += (listed.empty() ? "" : ", ") + r.link + " " + r.endpoint;
  }
  return fail("peer " + peer + " has no path over " + *link +
              (endpoint ? " toward " + *endpoint : std::string()) +
              " (its paths: " + (listed.empty() ? std::string("none") : listed) + ")");
}

void MeshControl::set_endpoint(Peer& p, const TunnelEndpoint& e) {
  if (p.endpoint && *p.endpoint == e) {
    return;
  }
  p.endpoint = e;
  command({.kind = MeshCommand::Kind::kEndpoint, .slot = p.slot, .endpoint = e});
}

void MeshControl::choose_endpoint(Peer& p, size_t choice, Clock::time_point now) {
  if (p.plan.endpoints.empty()) {
    return;
  }
  p.endpoint_choice = choice % p.plan.endpoints.size();
  const config::Endpoint& e = p.plan.endpoints[p.endpoint_choice];
  if (auto address = net::IpAddress::parse(e.host)) {
    set_endpoint(p, TunnelEndpoint::from({*address, e.port}));
    p.resolve_at.reset();
    return;
  }
  // A name: looked up off this thread, again every resolve_interval and after a failure.
  p.resolve_at = now + std::chrono::seconds(plan_ ? plan_->resolve_interval : 60);
  const std::string peer = p.plan.name;
  const size_t picked = p.endpoint_choice;
  const std::string host = e.host;
  if (!resolver_->submit([this, peer, picked, host] {
        auto address = resolve_(host);
        const std::lock_guard lock(resolved_mutex_);
        resolved_.push_back({peer, picked, std::move(address)});
      })) {
    p.endpoint_problem = "the resolver is busy";
  }
}

void MeshControl::take_resolved() {
  std::vector<Resolved> done;
  {
    const std::lock_guard lock(resolved_mutex_);
    done.swap(resolved_);
  }
  for (Resolved& r : done) {
    auto it = peers_.find(r.peer);
    if (it == peers_.end() || it->second.endpoint_choice != r.choice ||
        r.choice >= it->second.plan.endpoints.size()) {
      continue;  // the peer or its endpoints changed meanwhile
    }
    Peer& p = it->second;
    if (!r.address) {
      p.endpoint_problem = r.address.error();
      if (!p.endpoint && r.choice + 1 < p.plan.endpoints.size()) {
        choose_endpoint(p, r.choice + 1, Clock::now());  // the next one meanwhile
      }
      continue;
    }
    p.endpoint_problem.clear();
    if (p.resolved == *r.address && p.endpoint) {
      continue;  // the same address again: where the peer roamed to (a NAT's port) stays
    }
    p.resolved = *r.address;
    set_endpoint(p, TunnelEndpoint::from({*r.address, p.plan.endpoints[r.choice].port}));
  }
}

void MeshControl::forget_all(Peer& p) {
  // The keys go (their indexes when the lcore hands the sessions back); the endpoint stays.
  command({.kind = MeshCommand::Kind::kClear, .slot = p.slot});
  p.current = p.next = {};
  p.displaced = {};
  handshakes_->forget_handshake(p.id);
}

void MeshControl::install(Peer& p, const wg::SessionKeys& keys, Clock::time_point now) {
  log::debug("mesh session made",
             {{"peer", p.plan.name}, {"index", keys.local_index}, {"initiator", keys.initiator}});
  auto* session = new wg::TransportSession(keys);  // its contexts made here, not on the lcore
  owned_indexes_[keys.local_index] = {.slot = p.slot, .made = now};
  tables_.indexes().add(keys.local_index);  // before the peer can know it
  if (!command({.kind = MeshCommand::Kind::kInstall,
                .as_next = !keys.initiator,
                .slot = p.slot,
                .made_ns = ns_of(now),
                .session = session})) {
    return;  // the lcore never has it: the mirror stays as it is
  }
  const SessionMeta fresh{keys.local_index, now, keys.initiator};
  // The mirror rotates as the lcore does (lcore_tunnels.cc install()) for the sessions it
  // sends on and answered with; the ones the lcore keeps only for receiving are expired by
  // index (expire_sessions) and come back as kRetired when it lets them go.
  if (!keys.initiator) {
    if (p.next) {
      // Kept until kPromoted says whether the lcore made it current first (the oldest goes
      // when more pile up than a tick's handshakes can make).
      auto free = std::find_if(p.displaced.begin(), p.displaced.end(),
                               [](const SessionMeta& m) { return !m; });
      if (free == p.displaced.end()) {
        std::move(p.displaced.begin() + 1, p.displaced.end(), p.displaced.begin());
        free = p.displaced.end() - 1;
      }
      *free = p.next;
    }
    p.next = fresh;
  } else {
    // Whether or not the lcore promoted a displaced session, this install leaves it the same:
    // the new one current, the others kept only for receiving.
    p.displaced = {};
    p.next = {};
    p.current = fresh;
  }
}

void MeshControl::initiate(Peer& p, Clock::time_point now, wg::WallClock::time_point wall,
                           const char* why) {
  if (!p.endpoint) {
    ++rejects_["no_endpoint"];
    return;
  }
  log::debug("mesh handshake initiated", {{"peer", p.plan.name}, {"reason", why}});
  auto bytes = handshakes_->initiate(p.id, now, wall);
  if (!bytes) {
    return;
  }
  send(std::vector<uint8_t>(bytes->begin(), bytes->end()), *p.endpoint, owner(p.slot));
  p.timers.initiation_sent(now);
  ++p.handshakes_sent;
}

void MeshControl::take_handshake(const MeshEvent& e, size_t shard, Clock::time_point now,
                                 wg::WallClock::time_point wall) {
  const std::vector<uint8_t> bytes(
      rte_pktmbuf_mtod(e.packet, const uint8_t*),
      rte_pktmbuf_mtod(e.packet, const uint8_t*) + rte_pktmbuf_data_len(e.packet));
  rte_pktmbuf_free(e.packet);
  if (!handshakes_) {
    return;
  }
  wg::Handshaker::Taken t = handshakes_->take(bytes, e.endpoint.host_port(), now);
  if (!t.dropped.empty()) {
    ++rejects_[t.dropped];
  }
  Peer* p = nullptr;
  if (t.peer) {
    for (auto& [name, candidate] : peers_) {
      if (candidate.id == *t.peer) {
        p = &candidate;
      }
    }
  }
  if (t.keys && p != nullptr) {
    // The peer is where its handshake came from; the reply goes there too.
    set_endpoint(*p, e.endpoint);
    install(*p, *t.keys, now);
    ++p->handshakes_received;
    p->timers.authenticated_received(now, false);
    if (t.keys->initiator) {
      p->latest_handshake = wall;
      p->timers.handshake_complete(now);
    } else {
      p->timers.authenticated_sent(now);
    }
  }
  if (!t.reply.empty()) {
    // A response by the peer's lcore, after the install in the same ring: the peer's first
    // packet on the session cannot overtake it. A cookie reply by the lcore it came in by.
    send(t.reply, e.endpoint, p != nullptr ? owner(p->slot) : shard);
  }
}

void MeshControl::take_events(Clock::time_point now, wg::WallClock::time_point wall) {
  // Bounded per tick and lcore: a flood of handshakes waits in the ring (and overflows there,
  // counted by the lcore), never holds this thread.
  for (size_t shard = 0; shard < channels_.size(); ++shard) {
    MeshEvent e;
    for (int n = 0; n < 512 && channels_[shard]->next_event(e); ++n) {
      take_event(e, shard, now, wall);
    }
  }
}

void MeshControl::take_event(const MeshEvent& e, size_t shard, Clock::time_point now,
                             wg::WallClock::time_point wall) {
  switch (e.kind) {
    case MeshEvent::Kind::kHandshake:
      take_handshake(e, shard, now, wall);
      break;
    case MeshEvent::Kind::kRoamed:
      if (Peer* p = by_slot(e.slot); p != nullptr) {
        p->endpoint = e.endpoint;  // the lcore moved already
      }
      break;
    case MeshEvent::Kind::kPromoted:
      if (Peer* p = by_slot(e.slot); p != nullptr && e.index != 0) {
        promoted(*p, e.index, now, wall);
      }
      break;
    case MeshEvent::Kind::kRetired:
      release_index(e.session->keys().local_index);
      delete e.session;
      break;
    case MeshEvent::Kind::kPath:
      // Of the table published last: indexes of an older one name other paths now.
      if (Peer* p = by_slot(e.slot); p != nullptr && e.generation == generation_) {
        path_changed(*p, e.index, e.transition, wall);
      }
      break;
  }
}

void MeshControl::path_changed(Peer& p, size_t path, const paths::Transition& t,
                               wg::WallClock::time_point wall) {
  if (path >= p.paths.size()) {
    return;  // of a table since replaced
  }
  PathRecord& r = p.paths[path];
  r.last = t;
  r.last_wall = wall;
  ++r.changes;
  const std::string why = paths::describe(t, {});
  const bool down = t.to == paths::PathState::kDown;
  log::write(down ? log::Level::kWarn : log::Level::kInfo,
             down ? "mesh path down" : "mesh path state changed",
             {{"peer", p.plan.name},
              {"link", r.link},
              {"endpoint", r.endpoint},
              {"from", paths::name(t.from)},
              {"to", paths::name(t.to)},
              {"cause", paths::name(t.cause)},
              {"detail", why}});
}

void MeshControl::promoted(Peer& p, uint32_t index, Clock::time_point now,
                           wg::WallClock::time_point wall) {
  // The responder's session confirmed: the lcore made it current when it heard on it. A
  // displaced one was promoted before the lcore took the newer next: the ones displaced
  // before it were settled by then (events from one lcore keep their order).
  const auto displaced = std::find_if(p.displaced.begin(), p.displaced.end(),
                                      [&](const SessionMeta& m) { return m.local_index == index; });
  SessionMeta made_current;
  if (p.next.local_index == index) {
    made_current = p.next;
    p.next = {};
    p.displaced = {};
  } else if (displaced != p.displaced.end()) {
    made_current = *displaced;
    std::fill(p.displaced.begin(), displaced + 1, SessionMeta{});
    std::rotate(p.displaced.begin(), displaced + 1, p.displaced.end());
  } else {
    return;  // forgotten meanwhile
  }
  log::debug("mesh session confirmed", {{"peer", p.plan.name}, {"index", index}});
  p.current = made_current;
  p.latest_handshake = wall;
  p.timers.handshake_complete(now);
}

void MeshControl::poll_counters(Peer& p, Clock::time_point now, wg::WallClock::time_point wall) {
  TunnelPeerStats& s = stats_[p.slot];
  const int64_t rx = s.last_rx_ns.load(std::memory_order_relaxed);
  const int64_t data_rx = s.last_data_rx_ns.load(std::memory_order_relaxed);
  const int64_t tx = s.last_tx_ns.load(std::memory_order_relaxed);
  const int64_t data_tx = s.last_data_tx_ns.load(std::memory_order_relaxed);
  if (rx != p.seen_rx_ns) {
    p.timers.authenticated_received(at_ns(rx), data_rx != p.seen_data_rx_ns);
    if (p.current && wg::rekey_on_receive(p.current.initiator, p.current.made, now) &&
        p.timers.may_initiate(now)) {
      initiate(p, now, wall, "session_old_on_receive");
    }
  }
  if (tx != p.seen_tx_ns) {
    p.timers.authenticated_sent(at_ns(tx));
  }
  if (data_tx != p.seen_data_tx_ns) {
    p.timers.data_sent(at_ns(data_tx));
    if (p.current &&
        wg::rekey_on_send(p.current.initiator, p.current.made,
                          s.current_sent.load(std::memory_order_relaxed), now) &&
        p.timers.may_initiate(now)) {
      initiate(p, now, wall, "rekey_after_time_or_messages");
    }
  }
  p.seen_rx_ns = rx;
  p.seen_data_rx_ns = data_rx;
  p.seen_tx_ns = tx;
  p.seen_data_tx_ns = data_tx;
  // Packets wait for a session: make one.
  const bool usable = p.current && now - p.current.made < wg::scaled(wg::kRejectAfterTime);
  if (!usable && s.staged.load(std::memory_order_relaxed) > 0 &&
      !handshakes_->handshake_pending(p.id) && p.timers.may_initiate(now)) {
    initiate(p, now, wall, "packets_waiting");
  }
}

void MeshControl::run_timers(Peer& p, Clock::time_point now, wg::WallClock::time_point wall) {
  const wg::TimerActions a = p.timers.due(now);
  if (a.zero_keys) {
    forget_all(p);
  }
  if (a.give_up_handshake) {
    // 90 s unanswered: what waited for it goes, and the attempt ends (a later one starts
    // afresh), by another WAN link's address if there is one.
    command({.kind = MeshCommand::Kind::kDropStaged, .slot = p.slot});
    handshakes_->forget_handshake(p.id);
    if (p.plan.endpoints.size() > 1) {
      choose_endpoint(p, p.endpoint_choice + 1, now);
    }
  }
  if (a.send_initiation) {
    if (handshakes_->handshake_pending(p.id) && p.plan.endpoints.size() > 1) {
      // A retry: the last one went unanswered, so the next try goes by the next endpoint.
      choose_endpoint(p, p.endpoint_choice + 1, now);
    }
    initiate(p, now, wall, "retry");
  }
  const bool usable = p.current && now - p.current.made < wg::scaled(wg::kRejectAfterTime);
  if (a.send_keepalive && usable) {
    command({.kind = MeshCommand::Kind::kKeepalive, .slot = p.slot});
  }
  // A peer kept up by keepalives has a session whenever it can: the first handshake unasked,
  // and a new one once the last expired, as wg's persistent keepalive does. So has a peer whose
  // paths are probed: the probes travel in the session.
  if ((p.plan.persistent_keepalive > 0 || !p.paths.empty()) && !usable && p.endpoint &&
      !handshakes_->handshake_pending(p.id) && p.timers.may_initiate(now)) {
    initiate(p, now, wall, p.plan.persistent_keepalive > 0 ? "persistent_keepalive" : "probes");
  }
  if (p.resolve_at && now >= *p.resolve_at) {
    // Again by name; a peer that has no address yet starts over from its first endpoint.
    choose_endpoint(p, p.endpoint ? p.endpoint_choice : 0, now);
  }
}

void MeshControl::expire_sessions(Clock::time_point now) {
  for (auto& [index, owned] : owned_indexes_) {
    if (owned.expired || now - owned.made < wg::scaled(wg::kRejectAfterTime)) {
      continue;
    }
    // Its index goes when the lcore hands it back; a command that did not go is tried again
    // next tick.
    if (!command({.kind = MeshCommand::Kind::kForget, .slot = owned.slot, .index = index})) {
      continue;
    }
    owned.expired = true;
    log::debug("mesh session expired", {{"slot", owned.slot}, {"index", index}});
    if (Peer* p = by_slot(owned.slot); p != nullptr) {
      for (SessionMeta* s : {&p->current, &p->next}) {
        if (s->local_index == index) {
          *s = {};
        }
      }
      // A late kPromoted must not make it current again.
      for (SessionMeta& d : p->displaced) {
        if (d.local_index == index) {
          d = {};
        }
      }
    }
  }
}

void MeshControl::tick(Clock::time_point now, wg::WallClock::time_point wall) {
  take_events(now, wall);
  take_resolved();
  expire_sessions(now);
  if (grace_ends_ && plan_ && unix_seconds(wall) >= *grace_ends_) {
    log::info("mesh previous key retired", {{"grace_ended", utc_time_text(*grace_ends_)}});
    sync_keys(wall);  // a rotation's grace over: its previous key is taken no more
  }
  for (auto& [name, p] : peers_) {
    poll_counters(p, now, wall);
    run_timers(p, now, wall);
  }
}

void MeshControl::paths_changed() {
  for (auto& [name, p] : peers_) {
    if (p.current) {
      command({.kind = MeshCommand::Kind::kKeepalive, .slot = p.slot});
    }
  }
}

MeshStatus MeshControl::status() const {
  MeshStatus out;
  if (!plan_ || !handshakes_) {
    return out;
  }
  out.public_key = handshakes_->identity().public_key;
  out.previous_public_key = handshakes_->previous_public_key();
  out.previous_key_until = out.previous_public_key ? plan_->previous_key_until : 0;
  out.listen_port = plan_->listen_port;
  out.rejects = rejects_;
  out.under_load = handshakes_->under_load(Clock::now());
  for (const auto& [name, p] : peers_) {
    const TunnelPeerStats& s = stats_[p.slot];
    MeshPeerStatus ps{.name = name,
                      .public_key = p.plan.public_key,
                      .allowed_ips = p.plan.allowed_ips,
                      .latest_handshake = p.latest_handshake,
                      .rx_bytes = s.rx_bytes.load(std::memory_order_relaxed),
                      .tx_bytes = s.tx_bytes.load(std::memory_order_relaxed),
                      .rx_packets = s.rx_packets.load(std::memory_order_relaxed),
                      .tx_packets = s.tx_packets.load(std::memory_order_relaxed),
                      .handshakes_sent = p.handshakes_sent,
                      .handshakes_received = p.handshakes_received,
                      .persistent_keepalive = p.plan.persistent_keepalive,
                      .has_session = static_cast<bool>(p.current),
                      .endpoint_problem = p.endpoint_problem};
    if (p.endpoint) {
      ps.endpoint = p.endpoint->host_port();
    }
    ps.previous_public_key = handshakes_->previous_public_key(p.id);
    ps.previous_key_until = ps.previous_public_key ? p.plan.previous_key_until : 0;
    ps.probe_interval_ms = p.plan.probe_interval_ms;
    if (p.preferred) {
      ps.preferred = p.preferred->first + " " + p.preferred->second;
      // Not the structured binding itself in the lambda: C++20 clang refuses to capture one.
      const auto& wanted = *p.preferred;
      const bool listed = std::any_of(p.paths.begin(), p.paths.end(), [&](const PathRecord& r) {
        return r.link == wanted.first && r.endpoint == wanted.second;
      });
      if (!listed) {
        ps.preferred += " (no such path now: not in force)";
      }
    }
    const TunnelPeerPathStats& lcore = s.paths;
    const size_t count = std::min<size_t>(p.paths.size(), lcore.count.load());
    const int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    for (size_t k = 0; k < p.paths.size(); ++k) {
      const PathRecord& r = p.paths[k];
      MeshPathStatus path{.link = r.link,
                          .endpoint = r.endpoint,
                          .changes = r.changes,
                          .last_change = r.last,
                          .last_change_wall = r.last_wall};
      if (k < count) {
        const TunnelPathStats& l = lcore.path[k];
        const auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
        path.measured = true;
        path.state = static_cast<paths::PathState>(load(l.state));
        path.active = load(l.active);
        for (auto [from, to] :
             {std::pair{&l.rtt_ns, &path.rtt_ns}, std::pair{&l.rtt_p50_ns, &path.rtt_p50_ns},
              std::pair{&l.rtt_p99_ns, &path.rtt_p99_ns}}) {
          if (const int64_t v = load(*from); v >= 0) {
            *to = v;
          }
        }
        path.jitter_in_ns = load(l.jitter_in_ns);
        path.jitter_out_ns = load(l.jitter_out_ns);
        path.loss_in_1s = load(l.loss_in_1s_ppm) / 1e6;
        path.loss_out_1s = load(l.loss_out_1s_ppm) / 1e6;
        path.loss_in_10s = load(l.loss_in_10s_ppm) / 1e6;
        path.loss_out_10s = load(l.loss_out_10s_ppm) / 1e6;
        const uint32_t classes = load(l.classes);
        for (size_t c = 0; c < plan_->policies.classes.size() && c < 32; ++c) {
          if ((classes >> c & 1) != 0) {
            path.classes.push_back(plan_->policies.classes[c].name);
          }
        }
        if (const int64_t heard = load(l.last_heard_ns); heard > 0) {
          path.last_heard_ago_ns = now_ns - heard;
        }
        path.sent = load(l.sent);
        path.received = load(l.received);
      }
      ps.paths.push_back(std::move(path));
    }
    out.peers.push_back(std::move(ps));
  }
  return out;
}

}  // namespace vigil::dp

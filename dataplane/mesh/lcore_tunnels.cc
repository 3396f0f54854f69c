#include "dataplane/mesh/lcore_tunnels.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dataplane/packet/flow_hash.h"
#include "dataplane/packet/ipv4_fragmenter.h"
#include "ebpf/host/parse_host.h"
#include "sdwan/wireguard/index_shard.h"
#include "sdwan/wireguard/messages.h"
#include "sdwan/wireguard/timers.h"

namespace vigil::dp {
namespace {

// Events left free for retiring sessions: handshakes queue only above it.
// Every session of every peer may be retired at once (a kClear per peer): four each.
constexpr unsigned kEventReserve = 4 * kMaxMeshPeers + 16;
// REJECT_AFTER_TIME (divided in a test build: timers.h).
int64_t reject_after_ns() {
  static const int64_t ns = wg::scaled(wg::kRejectAfterTime).count();
  return ns;
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint16_t read16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Where a datagram came from: its source address and UDP port.
TunnelEndpoint source_of(const vigil_packet& p) {
  TunnelEndpoint e;
  const bool v4 = p.l3_proto == RTE_ETHER_TYPE_IPV4;
  e.family = v4 ? 4 : 6;
  std::memcpy(e.address, v4 ? reinterpret_cast<const uint8_t*>(&p.src.v4) : p.src.v6, v4 ? 4 : 16);
  e.port = rte_be_to_cpu_16(p.sport);
  return e;
}

void relaxed_add(std::atomic<uint64_t>& a, uint64_t n) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

LcoreTunnels::LcoreTunnels(const RouteTable& routes, const TunnelTables& tables,
                           MeshChannel& channel, TunnelPeerStats* stats, LcoreCounters& counters,
                           rte_mempool* pool, TunnelShards shards)
    : routes_(routes),
      tables_(tables),
      channel_(channel),
      stats_(stats),
      counters_(counters),
      pool_(pool),
      shards_(std::move(shards)),
      shard_count_(std::max<uint32_t>(1, static_cast<uint32_t>(shards_.inboxes.size()))) {
  // A new epoch each time the lcore starts (the peer then starts its counts again): the clock's
  // low bits are as good as random for that, and never 0.
  next_epoch_ = static_cast<uint32_t>(steady_ns()) | 1;
  probed_.reserve(kMaxMeshPeers);
  slot_of_index_.reserve(3 * kMaxMeshPeers);
  originated_.reserve(kMaxOriginated);
  retiring_.reserve(4 * kMaxMeshPeers);
}

LcoreTunnels::~LcoreTunnels() {
  for (uint16_t slot = 0; slot < kMaxMeshPeers; ++slot) {
    clear(slot);
  }
  for (Originated& o : originated_) {
    rte_pktmbuf_free(o.packet);
  }
  for (; inbox_at_ < inbox_count_; ++inbox_at_) {
    rte_pktmbuf_free(inbox_[inbox_at_].packet);
  }
  // The lcore is gone: what it could not hand back is freed here.
  for (auto* s : retiring_) {
    delete s;
  }
}

bool LcoreTunnels::usable(const Session& s, int64_t now_ns) const {
  return s && now_ns - s.made_ns < reject_after_ns() &&
         s.transport->sent() < wg::kRejectAfterMessages;
}

void LcoreTunnels::receive(Burst& burst) {
  const TunnelTable* t = tables_.get();
  if (t == nullptr) {
    return;
  }
  const ForwardingSnapshot* snap = routes_.snapshot();
  const uint16_t port_be = rte_cpu_to_be_16(t->listen_port);
  int64_t now_ns = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    const PacketState& st = burst.state[i];
    const vigil_packet& p = st.parsed;
    if (!burst.in_flight(i) || st.originated || p.l4_proto != IPPROTO_UDP || p.dport != port_be ||
        p.is_fragment != 0) {
      continue;
    }
    const bool v4 = p.l3_proto == RTE_ETHER_TYPE_IPV4;
    if (!(v4 ? snap->locals.has4(rte_be_to_cpu_32(p.dst.v4)) : snap->locals.has6(p.dst.v6))) {
      continue;  // transit to someone else's WireGuard: routed like anything else
    }
    rte_mbuf* m = burst.packets[i];
    const uint32_t data = rte_pktmbuf_data_len(m);
    const uint32_t ip_end = p.l3_offset + p.l3_length;
    if (!rte_pktmbuf_is_contiguous(m) || p.l4_offset + 8 > data || ip_end > data) [[unlikely]] {
      burst.drop(i, DropReason::kTunnelMalformed);
      continue;
    }
    const uint16_t udp_length = read16(rte_pktmbuf_mtod_offset(m, const uint8_t*, p.l4_offset + 4));
    if (udp_length < 8 || p.l4_offset + udp_length > ip_end) [[unlikely]] {
      burst.drop(i, DropReason::kTunnelMalformed);
      continue;
    }
    if (now_ns == 0) {
      now_ns = steady_ns();
    }
    take_datagram(burst, i, *t, *snap, now_ns, p.l4_offset + 8, udp_length - 8u);
  }
}

void LcoreTunnels::take_datagram(Burst& burst, uint16_t i, const TunnelTable& t,
                                 const ForwardingSnapshot& snap, int64_t now_ns, uint32_t offset,
                                 uint32_t length) {
  rte_mbuf* m = burst.packets[i];
  const vigil_packet& p = burst.state[i].parsed;
  const std::span<const uint8_t> d(rte_pktmbuf_mtod_offset(m, const uint8_t*, offset), length);
  switch (wg::classify(d)) {
    case wg::Classified::kTransport:
      open_transport(burst, i, t, snap, now_ns, offset, length);
      return;
    case wg::Classified::kInitiation:
    case wg::Classified::kResponse:
    case wg::Classified::kCookieReply: {
      if (channel_.event_room() < kEventReserve) [[unlikely]] {
        burst.drop(i, DropReason::kTunnelHandshakeBusy);  // the control thread is behind
        return;
      }
      const MeshEvent e{.kind = MeshEvent::Kind::kHandshake, .packet = m, .endpoint = source_of(p)};
      // The control thread gets the message alone.
      rte_pktmbuf_adj(m, static_cast<uint16_t>(offset));
      rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - length));
      if (!channel_.event(e)) [[unlikely]] {
        burst.drop(i, DropReason::kTunnelHandshakeBusy);
        return;
      }
      burst.state[i].disposition = Disposition::kTaken;
      return;
    }
    default:
      burst.drop(i, DropReason::kTunnelMalformed);
  }
}

void LcoreTunnels::open_transport(Burst& burst, uint16_t i, const TunnelTable& t,
                                  const ForwardingSnapshot& snap, int64_t now_ns, uint32_t offset,
                                  uint32_t length) {
  rte_mbuf* m = burst.packets[i];
  PacketState& st = burst.state[i];
  uint8_t* d = rte_pktmbuf_mtod_offset(m, uint8_t*, offset);
  wg::TransportHeader h;
  wg::decode(std::span<const uint8_t>(d, length), h);
  if (const uint32_t owner = wg::shard_of_index(h.receiver, shard_count_); owner != shards_.self) {
    if (!tables_.indexes().may_hold(h.receiver)) {
      burst.drop(i, DropReason::kTunnelNoSession);  // forged or gone: not the owner's problem
      return;
    }
    hand_off(burst, i, static_cast<uint16_t>(owner), /*received=*/true);
    return;
  }
  const auto found = slot_of_index_.find(h.receiver);
  if (found == slot_of_index_.end() || !t.active[found->second]) {
    burst.drop(i, DropReason::kTunnelNoSession);
    return;
  }
  const uint16_t slot = found->second;
  Peer& peer = peers_[slot];
  Session* s = nullptr;
  for (Session* candidate : {&peer.current, &peer.next, &peer.old[0], &peer.old[1]}) {
    if (*candidate && candidate->transport->keys().local_index == h.receiver) {
      s = candidate;
    }
  }
  if (s == nullptr) {
    burst.drop(i, DropReason::kTunnelNoSession);
    return;
  }
  if (!usable(*s, now_ns)) {
    burst.drop(i, DropReason::kTunnelSessionExpired);
    return;
  }
  size_t inner_length = 0;
  const wg::OpenResult opened = s->transport->open(
      std::span<const uint8_t>(d, length),
      std::span<uint8_t>(d + wg::kTransportHeaderSize, length - wg::kTransportHeaderSize),
      inner_length);
  if (opened != wg::OpenResult::kOk) {
    burst.drop(i, opened == wg::OpenResult::kReplay   ? DropReason::kTunnelReplay
                  : opened == wg::OpenResult::kBadTag ? DropReason::kTunnelBadTag
                                                      : DropReason::kTunnelMalformed);
    return;
  }
  // Authenticated: the peer's.
  s->last_rx_ns = now_ns;
  TunnelPeerStats& stats = stats_[slot];
  relaxed_add(stats.rx_bytes, length);
  relaxed_add(stats.rx_packets, 1);
  stats.last_rx_ns.store(now_ns, std::memory_order_relaxed);
  if (s == &peer.next) {
    // The initiator used the session we answered with: it is confirmed, and the current one.
    demote(peer, peer.current);
    peer.current = peer.next;
    peer.next = {};
    const uint32_t index = peer.current.transport->keys().local_index;
    stats.current_index.store(index, std::memory_order_relaxed);
    stats.current_sent.store(peer.current.transport->sent(), std::memory_order_relaxed);
    // In order with the handshakes the control thread takes after it (kEventReserve keeps
    // room): its mirror of the sessions rotates exactly here.
    (void)channel_.event({.kind = MeshEvent::Kind::kPromoted, .slot = slot, .index = index});
    flush_staged(slot);
  }
  const TunnelEndpoint from = source_of(st.parsed);
  const uint8_t* in = d + wg::kTransportHeaderSize;
  const bool probe = paths::is_probe(std::span<const uint8_t>(in, inner_length));
  if (!probe && !(from == peer.endpoint)) {
    // Roaming: the peer is where its last authenticated packet came from. Not for a probe:
    // the peer probes every path, from every address it has, all the time.
    peer.endpoint = from;
    if (channel_.event_room() > kEventReserve) {
      (void)channel_.event({.kind = MeshEvent::Kind::kRoamed, .slot = slot, .endpoint = from});
    }
  }
  if (inner_length == 0) {
    rte_pktmbuf_free(m);  // a keepalive: nothing to deliver
    st.disposition = Disposition::kTaken;
    return;
  }
  stats.last_data_rx_ns.store(now_ns, std::memory_order_relaxed);
  // The inner packet's own length (padding off), and its source must be one the peer may use.
  if (probe) {
    if (!peer.paths) {
      burst.drop(i, DropReason::kPathProbeUnmatched);  // not probing this peer
      return;
    }
    if (const auto refused = take_probe(slot, t, burst.in_port, from,
                                        std::span<const uint8_t>(in, inner_length), now_ns)) {
      burst.drop(i, *refused);
      return;
    }
    rte_pktmbuf_free(m);
    st.disposition = Disposition::kTaken;
    return;
  }
  const int version = in[0] >> 4;
  size_t total = 0;
  if (version == 4 && inner_length >= 20) {
    total = read16(in + 2);
  } else if (version == 6 && inner_length >= 40) {
    total = 40 + size_t{read16(in + 4)};
  }
  if (total < (version == 4 ? 20u : 40u) || total > inner_length) {
    burst.drop(i, DropReason::kTunnelMalformed);
    return;
  }
  const auto owner = t.allowed.lookup(version == 4 ? 4 : 6, in + (version == 4 ? 12 : 8));
  if (!owner || *owner != slot) {
    burst.drop(i, DropReason::kTunnelSourceNotAllowed);
    return;
  }
  // A new Ethernet header right before the inner packet, to the port that received it: admit
  // and route take it as if it had come in there.
  const uint32_t inner_at = offset + wg::kTransportHeaderSize;
  rte_pktmbuf_adj(m, static_cast<uint16_t>(inner_at - sizeof(rte_ether_hdr)));
  rte_pktmbuf_trim(m,
                   static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr) - total));
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = snap.ports[burst.in_port].mac;
  eth->src_addr = snap.ports[burst.in_port].mac;
  eth->ether_type = rte_cpu_to_be_16(version == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  if (vigil_parse_frame(eth, rte_pktmbuf_data_len(m), &st.parsed) != VIGIL_PARSE_OK) {
    burst.drop(i, DropReason::kMalformed);
    return;
  }
  st.tunnel = true;
}

void LcoreTunnels::send(Burst& burst) {
  const TunnelTable* t = tables_.get();
  if (t == nullptr) {
    // No mesh (any more): what is routed to the tunnel goes nowhere, never to a device.
    for (uint16_t i = 0; i < burst.count; ++i) {
      if (burst.in_flight(i) && burst.state[i].out_port == kTunnelPort) {
        burst.drop(i, DropReason::kTunnelNoPeer);
      }
    }
    return;
  }
  const ForwardingSnapshot* snap = routes_.snapshot();
  int64_t now_ns = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    PacketState& st = burst.state[i];
    if (!burst.in_flight(i) || st.out_port != t->tunnel_port) {
      continue;
    }
    const vigil_packet& p = st.parsed;
    const bool v4 = p.l3_proto == RTE_ETHER_TYPE_IPV4;
    const auto slot =
        t->allowed.lookup(v4 ? 4 : 6, v4 ? reinterpret_cast<const uint8_t*>(&p.dst.v4) : p.dst.v6);
    if (!slot || *slot >= kMaxMeshPeers || !t->active[*slot]) {
      burst.drop(i, DropReason::kTunnelNoPeer);
      continue;
    }
    if (const uint16_t to = owner(*slot); to != shards_.self) {
      st.originated = true;  // routed: the owner seals it as it is
      hand_off(burst, i, to, /*received=*/false);
      continue;
    }
    Peer& peer = peers_[*slot];
    if (now_ns == 0) {
      now_ns = steady_ns();
    }
    if (!usable(peer.current, now_ns)) {
      // Held for the handshake the control thread starts when it sees packets waiting.
      if (peer.staged_count == kMaxStagedPerPeer) {
        rte_pktmbuf_free(peer.staged[0].packet);  // the oldest goes, as wireguard-go's queue
        counters_.drop(DropReason::kTunnelStagedOverflow);
        std::move(peer.staged.begin() + 1, peer.staged.end(), peer.staged.begin());
        --peer.staged_count;
      }
      peer.staged[peer.staged_count++] = Held{burst.packets[i], st};
      stats_[*slot].staged.store(peer.staged_count, std::memory_order_relaxed);
      st.disposition = Disposition::kTaken;
      continue;
    }
    if (!peer.endpoint.valid() && active_path(static_cast<uint16_t>(*slot), *t) == nullptr) {
      burst.drop(i, DropReason::kTunnelNoEndpoint);
      continue;
    }
    if (st.fragment_mtu != 0) [[unlikely]] {
      fragment_and_seal(burst, i, peer, static_cast<uint16_t>(*slot), *t, now_ns);
      continue;
    }
    seal(burst, i, peer, static_cast<uint16_t>(*slot), *t, *snap, now_ns);
  }
}

size_t LcoreTunnels::seal_datagram(rte_mbuf* m, PacketState& st, Peer& peer, uint16_t slot,
                                   const TunnelTable& t, int64_t now_ns) {
  if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0) {
    st.drop = DropReason::kTunnelMalformed;
    return 0;
  }
  const uint32_t inner_length = st.parsed.l3_length;
  const uint32_t l3 = st.parsed.l3_offset;
  // The mbuf starts at the WireGuard header, 16 bytes before the inner packet, and ends with
  // room for the padding and the tag.
  if (l3 >= wg::kTransportHeaderSize) {
    rte_pktmbuf_adj(m, static_cast<uint16_t>(l3 - wg::kTransportHeaderSize));
  } else if (rte_pktmbuf_prepend(m, static_cast<uint16_t>(wg::kTransportHeaderSize - l3)) ==
             nullptr) {
    st.drop = DropReason::kTunnelNoRoom;
    return 0;
  }
  const size_t size = wg::sealed_size(inner_length, t.mtu);
  const uint32_t have = rte_pktmbuf_pkt_len(m);
  if (have > wg::kTransportHeaderSize + inner_length) {
    rte_pktmbuf_trim(m, static_cast<uint16_t>(have - wg::kTransportHeaderSize - inner_length));
  }
  if (rte_pktmbuf_append(
          m, static_cast<uint16_t>(size - wg::kTransportHeaderSize - inner_length)) == nullptr) {
    st.drop = DropReason::kTunnelNoRoom;
    return 0;
  }
  const size_t n = peer.current.transport->seal_in_place(
      std::span<uint8_t>(rte_pktmbuf_mtod(m, uint8_t*), size), inner_length, t.mtu);
  if (n == 0) {
    st.drop = DropReason::kTunnelSessionExpired;  // its counter is spent
    return 0;
  }
  TunnelPeerStats& stats = stats_[slot];
  relaxed_add(stats.tx_bytes, n);
  relaxed_add(stats.tx_packets, 1);
  stats.last_tx_ns.store(now_ns, std::memory_order_relaxed);
  if (inner_length > 0) {
    stats.last_data_tx_ns.store(now_ns, std::memory_order_relaxed);
  }
  stats.current_sent.store(peer.current.transport->sent(), std::memory_order_relaxed);
  return n;
}

void LcoreTunnels::seal(Burst& burst, uint16_t i, Peer& peer, uint16_t slot, const TunnelTable& t,
                        const ForwardingSnapshot& snap, int64_t now_ns) {
  rte_mbuf* m = burst.packets[i];
  PacketState& st = burst.state[i];
  const TunnelPath* via = path_for_packet(slot, t, st);  // before sealing: it reads the packet
  const size_t n = seal_datagram(m, st, peer, slot, t, now_ns);
  if (n == 0 ||
      !encapsulate(m, st, static_cast<uint32_t>(n), via ? via->to : peer.endpoint, t, snap, via)) {
    burst.drop(i, st.drop);
  }
}

void LcoreTunnels::fragment_and_seal(Burst& burst, uint16_t i, Peer& peer, uint16_t slot,
                                     const TunnelTable& t, int64_t now_ns) {
  // IPv4 without DF over the tunnel's MTU: fragmented before sealing, as a Linux router sends
  // it into a wg interface; each fragment is a datagram of its own, encapsulated with the
  // lcore's originated packets in this same loop.
  PacketState& st = burst.state[i];
  if (st.parsed.l3_offset != sizeof(rte_ether_hdr)) {
    burst.drop(i, DropReason::kFragmentationFailed);  // tagged: the fragmenter takes plain frames
    return;
  }
  // The whole packet's path (its class's), for every fragment.
  const TunnelPath* via = path_for_packet(slot, t, st);
  const int16_t path =
      via == nullptr ? int16_t{-1} : static_cast<int16_t>(via - t.paths[slot].path.data());
  rte_mbuf* fragments[kMaxFragments];
  const uint16_t n = fragment_ipv4(burst.packets[i], st.fragment_mtu, fragments);
  st.disposition = Disposition::kTaken;  // the fragmenter freed it
  if (n == 0) {
    counters_.drop(DropReason::kFragmentationFailed);
    return;
  }
  ++counters_.ipv4_fragmented;
  counters_.ipv4_fragments_created += n;
  for (uint16_t k = 0; k < n; ++k) {
    rte_mbuf* f = fragments[k];
    PacketState fs = st;
    fs.parsed.l3_offset = sizeof(rte_ether_hdr);
    fs.parsed.l3_length = read16(rte_pktmbuf_mtod_offset(f, const uint8_t*, 14 + 2));
    if (originated_.size() == kMaxOriginated) {
      rte_pktmbuf_free(f);
      counters_.drop(DropReason::kTunnelStagedOverflow);
      continue;
    }
    if (seal_datagram(f, fs, peer, slot, t, now_ns) == 0) {
      rte_pktmbuf_free(f);
      counters_.drop(fs.drop);
      continue;
    }
    originated_.push_back({.packet = f,
                           .state = {},
                           .to = peer.endpoint,
                           .payload = true,
                           .path = path,
                           .slot = slot,
                           .generation = paths_generation_});
  }
}

bool LcoreTunnels::encapsulate(rte_mbuf* m, PacketState& st, uint32_t payload_length,
                               const TunnelEndpoint& to, const TunnelTable& t,
                               const ForwardingSnapshot& snap, const TunnelPath* via) {
  const bool v4 = to.family == 4;
  Forwarder f{};
  const uint8_t* source = nullptr;
  if (via != nullptr) {
    // The path's own link and next hop, whatever the routes say.
    const TunnelLink& link = t.links[via->link];
    if (link.port >= snap.ports.size()) {
      st.drop = DropReason::kTunnelNoRouteToEndpoint;
      return false;
    }
    f = Forwarder{.gateway = via->next_hop,
                  .adjacency = kNoAdjacency,
                  .port = link.port,
                  .mtu = snap.ports[link.port].mtu};
    if (v4 ? link.has_v4 : link.has_v6) {
      source = v4 ? link.v4 : link.v6;
    }
  } else {
    uint64_t group = 0;
    if (v4) {
      uint32_t address = 0;
      std::memcpy(&address, to.address, 4);
      address = rte_be_to_cpu_32(address);
      snap.fib->lookup4(&address, &group, 1);
    } else {
      uint8_t address[1][16];
      std::memcpy(address[0], to.address, 16);
      snap.fib->lookup6(address, &group, 1);
    }
    const GroupEntry& e = snap.entry(group);
    if (e.action != RouteAction::kForward) {
      st.drop = DropReason::kTunnelNoRouteToEndpoint;
      return false;
    }
    f = e.buckets == 1 ? snap.forwarders[e.first] : snap.pick(e, to.port * 2654435761u);
    const PortInfo& out = snap.ports[f.port];
    if (v4 ? out.has_v4 : out.has_v6) {
      source = v4 ? out.v4 : out.v6;
    }
  }
  const uint32_t ip_length = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const uint32_t total = ip_length + sizeof(rte_udp_hdr) + payload_length;
  if (source == nullptr || total > f.mtu) {
    st.drop = source == nullptr ? DropReason::kTunnelNoSourceAddress : DropReason::kTooBig;
    return false;
  }
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(
      m, static_cast<uint16_t>(sizeof(rte_ether_hdr) + ip_length + sizeof(rte_udp_hdr))));
  if (frame == nullptr) {
    st.drop = DropReason::kTunnelNoRoom;
    return false;
  }
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  std::memset(eth, 0, sizeof *eth);  // the neighbour stage writes the addresses
  eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  uint8_t* ip = frame + sizeof(rte_ether_hdr);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + ip_length);
  udp->src_port = rte_cpu_to_be_16(t.listen_port);
  udp->dst_port = rte_cpu_to_be_16(to.port);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + payload_length));
  udp->dgram_cksum = 0;  // optional over IPv4; IPv6's below
  vigil_packet& p = st.parsed;
  std::memset(&p, 0, sizeof p);
  p.l3_proto = v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
  p.l4_proto = IPPROTO_UDP;
  p.l3_offset = sizeof(rte_ether_hdr);
  p.l4_offset = sizeof(rte_ether_hdr) + ip_length;
  p.l3_length = total;
  p.sport = udp->src_port;
  p.dport = udp->dst_port;
  if (v4) {
    auto* h = reinterpret_cast<rte_ipv4_hdr*>(ip);
    h->version_ihl = 0x45;
    h->type_of_service = 0;
    h->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(total));
    h->packet_id = rte_cpu_to_be_16(ip_id_++);
    h->fragment_offset = 0;
    h->time_to_live = 64;
    h->next_proto_id = IPPROTO_UDP;
    h->hdr_checksum = 0;
    std::memcpy(&h->src_addr, source, 4);
    std::memcpy(&h->dst_addr, to.address, 4);
    h->hdr_checksum = rte_ipv4_cksum(h);
    p.src.v4 = h->src_addr;
    p.dst.v4 = h->dst_addr;
  } else {
    auto* h = reinterpret_cast<rte_ipv6_hdr*>(ip);
    h->vtc_flow = rte_cpu_to_be_32(6u << 28);
    h->payload_len = udp->dgram_len;
    h->proto = IPPROTO_UDP;
    h->hop_limits = 64;
    std::memcpy(h->src_addr, source, 16);
    std::memcpy(h->dst_addr, to.address, 16);
    udp->dgram_cksum = rte_ipv6_udptcp_cksum(h, udp);
    std::memcpy(p.src.v6, source, 16);
    std::memcpy(p.dst.v6, to.address, 16);
  }
  st.out_port = f.port;
  st.adjacency = f.adjacency;
  st.gateway = f.gateway;
  st.out_mtu = f.mtu;
  st.fragment_mtu = 0;
  st.originated = true;  // routed: the route stage leaves it alone
  st.tunnel = true;
  st.disposition = Disposition::kInFlight;
  return true;
}

void LcoreTunnels::hand_off(Burst& burst, uint16_t i, uint16_t to, bool received) {
  if (!shards_.inboxes[to]->put({.packet = burst.packets[i],
                                 .state = burst.state[i],
                                 .in_port = burst.in_port,
                                 .received = received})) [[unlikely]] {
    burst.drop(i, DropReason::kTunnelHandoffFull);
    return;
  }
  burst.state[i].disposition = Disposition::kTaken;
}

void LcoreTunnels::poll() {
  handoff_left_ = kHandoffPacketsPerPoll;
  if (const TunnelTable* t = tables_.get(); t != nullptr) {
    if (t->generation != paths_generation_) {
      sync_paths(*t);
    }
    if (!probed_.empty()) {
      if (const int64_t now_ns = steady_ns(); now_ns >= next_paths_ns_) {
        next_paths_ns_ = now_ns + 1'000'000;
        run_paths(*t, now_ns);
      }
    }
  } else if (!probed_.empty()) {
    for (uint16_t slot : probed_) {
      peers_[slot].paths.reset();
      peers_[slot].classes.reset();
      peers_[slot].active_path = -1;
      stats_[slot].paths.count.store(0, std::memory_order_relaxed);
    }
    probed_.clear();
    paths_generation_ = 0;
  }
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if (!channel_.event({.kind = MeshEvent::Kind::kRetired, .session = *it})) {
      break;
    }
    it = retiring_.erase(it);
  }
  MeshCommand c;
  for (int n = 0; n < 64 && channel_.next_command(c); ++n) {
    switch (c.kind) {
      case MeshCommand::Kind::kInstall:
        install(c);
        break;
      case MeshCommand::Kind::kForget: {
        Peer& p = peers_[c.slot];
        for (Session* s : {&p.current, &p.next, &p.old[0], &p.old[1]}) {
          if (*s && s->transport->keys().local_index == c.index) {
            retire(*s);
          }
        }
        if (!p.current) {
          stats_[c.slot].current_index.store(0, std::memory_order_relaxed);
        }
        break;
      }
      case MeshCommand::Kind::kClear:
        clear(c.slot);
        break;
      case MeshCommand::Kind::kRemove: {
        clear(c.slot);
        peers_[c.slot].endpoint = {};
        TunnelPeerStats& st = stats_[c.slot];
        for (auto* counter : {&st.rx_bytes, &st.rx_packets, &st.tx_bytes, &st.tx_packets}) {
          counter->store(0, std::memory_order_relaxed);  // this thread writes them: no race
        }
        for (auto* at :
             {&st.last_rx_ns, &st.last_data_rx_ns, &st.last_tx_ns, &st.last_data_tx_ns}) {
          at->store(0, std::memory_order_relaxed);
        }
        break;
      }
      case MeshCommand::Kind::kDropStaged: {
        Peer& p = peers_[c.slot];
        for (uint32_t k = 0; k < p.staged_count; ++k) {
          rte_pktmbuf_free(p.staged[k].packet);
          counters_.drop(DropReason::kTunnelHandshakeFailed);
        }
        p.staged_count = 0;
        stats_[c.slot].staged.store(0, std::memory_order_relaxed);
        break;
      }
      case MeshCommand::Kind::kEndpoint:
        peers_[c.slot].endpoint = c.endpoint;
        break;
      case MeshCommand::Kind::kKeepalive:
        keepalive(c.slot);
        break;
      case MeshCommand::Kind::kSend:
        if (originated_.size() == kMaxOriginated) {
          rte_pktmbuf_free(c.packet);
          counters_.drop(DropReason::kTunnelHandshakeBusy);
          break;
        }
        originated_.push_back({.packet = c.packet, .state = {}, .to = c.endpoint, .payload = true});
        break;
    }
  }
}

void LcoreTunnels::install(const MeshCommand& c) {
  Peer& p = peers_[c.slot];
  const Session fresh{c.session, c.made_ns};
  slot_of_index_[c.session->keys().local_index] = c.slot;
  if (c.as_next) {
    // A newer answer of ours: the older one may be in use already (the peer's first packets
    // on it crossing its new initiation), so it is kept for receiving.
    if (p.next) {
      demote(p, p.next);
    }
    p.next = fresh;
    return;
  }
  // An unconfirmed session of ours as responder (both sides initiated at once) and the
  // current one are both kept for receiving, either may be the one the peer is on (old).
  if (p.next) {
    demote(p, p.next);
  }
  demote(p, p.current);
  p.current = fresh;
  TunnelPeerStats& stats = stats_[c.slot];
  stats.current_index.store(fresh.transport->keys().local_index, std::memory_order_relaxed);
  stats.current_sent.store(0, std::memory_order_relaxed);
  const bool waiting = p.staged_count > 0;
  flush_staged(c.slot);
  if (!waiting) {
    keepalive(c.slot);  // the responder uses the session once it hears on it
  }
}

void LcoreTunnels::retire(Session& s) {
  if (!s) {
    return;
  }
  slot_of_index_.erase(s.transport->keys().local_index);
  if (!channel_.event({.kind = MeshEvent::Kind::kRetired, .session = s.transport})) {
    retiring_.push_back(s.transport);  // handed back in a later poll
  }
  s = {};
}

void LcoreTunnels::demote(Peer& p, Session& s) {
  if (!s) {
    return;
  }
  Session* least = &s;
  for (Session& o : p.old) {
    if (!o) {
      o = s;
      s = {};
      return;
    }
    if (o.worth() < least->worth()) {
      least = &o;
    }
  }
  if (least != &s) {
    retire(*least);
    *least = s;
    s = {};
  } else {
    retire(s);
  }
}

void LcoreTunnels::clear(uint16_t slot) {
  Peer& p = peers_[slot];
  retire(p.current);
  retire(p.next);
  retire(p.old[0]);
  retire(p.old[1]);
  for (uint32_t k = 0; k < p.staged_count; ++k) {
    rte_pktmbuf_free(p.staged[k].packet);
    counters_.drop(DropReason::kTunnelHandshakeFailed);
  }
  p.staged_count = 0;
  stats_[slot].current_index.store(0, std::memory_order_relaxed);
  stats_[slot].staged.store(0, std::memory_order_relaxed);
}

void LcoreTunnels::flush_staged(uint16_t slot) {
  Peer& p = peers_[slot];
  for (uint32_t k = 0; k < p.staged_count; ++k) {
    Held& h = p.staged[k];
    if (originated_.size() == kMaxOriginated) {
      rte_pktmbuf_free(h.packet);
      counters_.drop(DropReason::kTunnelStagedOverflow);
      continue;
    }
    // Routed to the tunnel already: the send stage seals it in the burst it goes out with.
    h.state.originated = true;
    originated_.push_back({.packet = h.packet, .state = h.state, .to = {}, .payload = false});
  }
  p.staged_count = 0;
  stats_[slot].staged.store(0, std::memory_order_relaxed);
}

template <typename Fill>
rte_mbuf* LcoreTunnels::make_sealed(uint16_t slot, size_t inner_length, int64_t now_ns, Fill fill) {
  Peer& p = peers_[slot];
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(DropReason::kTunnelNoMbuf);
    return nullptr;
  }
  const size_t size = wg::sealed_size(inner_length);
  auto* buffer = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(size)));
  if (buffer == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  fill(std::span<uint8_t>(buffer + wg::kTransportHeaderSize, inner_length));
  const size_t n =
      p.current.transport->seal_in_place(std::span<uint8_t>(buffer, size), inner_length);
  if (n == 0) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  TunnelPeerStats& stats = stats_[slot];
  relaxed_add(stats.tx_bytes, n);
  relaxed_add(stats.tx_packets, 1);
  stats.last_tx_ns.store(now_ns, std::memory_order_relaxed);
  if (inner_length > 0) {
    stats.last_data_tx_ns.store(now_ns, std::memory_order_relaxed);
  }
  stats.current_sent.store(p.current.transport->sent(), std::memory_order_relaxed);
  return m;
}

void LcoreTunnels::keepalive(uint16_t slot) {
  Peer& p = peers_[slot];
  const int64_t now_ns = steady_ns();
  if (!usable(p.current, now_ns) || (!p.endpoint.valid() && p.active_path < 0) ||
      originated_.size() == kMaxOriginated) {
    return;
  }
  rte_mbuf* m = make_sealed(slot, 0, now_ns, [](std::span<uint8_t>) {});
  if (m == nullptr) {
    return;
  }
  originated_.push_back({.packet = m,
                         .state = {},
                         .to = p.endpoint,
                         .payload = true,
                         .path = p.active_path,
                         .slot = slot,
                         .generation = paths_generation_});
}

uint16_t LcoreTunnels::originate(Burst& burst) {
  return originated_.empty() ? take_handed_off(burst) : originate_own(burst);
}

uint16_t LcoreTunnels::take_handed_off(Burst& burst) {
  if (shard_count_ <= 1 || handoff_left_ == 0) {
    return 0;
  }
  if (inbox_at_ == inbox_count_) {
    inbox_count_ = shards_.inboxes[shards_.self]->take(inbox_.data(), kBurstSize);
    inbox_at_ = 0;
    if (inbox_count_ == 0) {
      return 0;
    }
  }
  // One kind and one ingress port a burst: a datagram is parsed again as received on its
  // port; a packet to seal keeps its routed state and names port 0, as originated ones do.
  const HandedOff& first = inbox_[inbox_at_];
  const bool received = first.received;
  const PortId in_port = received ? first.in_port : 0;
  uint16_t n = 0;
  for (; inbox_at_ < inbox_count_ && n < handoff_left_; ++inbox_at_, ++n) {
    const HandedOff& h = inbox_[inbox_at_];
    if (h.received != received || (received && h.in_port != in_port)) {
      break;
    }
    burst.packets[n] = h.packet;
    burst.state[n] = h.state;
  }
  handoff_left_ -= n;
  if (received) {
    burst.reset(in_port, n);  // as if it had just arrived
  } else {
    burst.in_port = in_port;
    burst.count = n;
  }
  return n;
}

uint16_t LcoreTunnels::originate_own(Burst& burst) {
  const TunnelTable* t = tables_.get();
  const ForwardingSnapshot* snap = routes_.snapshot();
  uint16_t n = 0;
  size_t used = 0;
  for (; used < originated_.size() && n < kBurstSize; ++used) {
    Originated& o = originated_[used];
    if (o.payload) {
      // Routed now, with the burst's own snapshot.
      PacketState st;
      st.disposition = Disposition::kInFlight;
      // A path of the table the packet was made with, still the lcore's: else a probe goes
      // nowhere (on another path it would mislead the peer), the rest by the routes.
      const bool current =
          t != nullptr && o.generation == paths_generation_ && t->generation == paths_generation_;
      const TunnelPath* via = current ? path_in(*t, o.slot, o.path) : nullptr;
      if (via == nullptr && (o.probe || !o.to.valid())) {
        rte_pktmbuf_free(o.packet);
        counters_.drop(o.probe ? DropReason::kPathProbeUnmatched : DropReason::kTunnelNoEndpoint);
        continue;
      }
      if (t == nullptr || !encapsulate(o.packet, st, rte_pktmbuf_pkt_len(o.packet),
                                       via ? via->to : o.to, *t, *snap, via)) {
        rte_pktmbuf_free(o.packet);
        counters_.drop(t == nullptr ? DropReason::kTunnelNoPeer : st.drop);
        continue;
      }
      o.state = st;
    }
    burst.packets[n] = o.packet;
    burst.state[n] = o.state;
    ++n;
  }
  originated_.erase(originated_.begin(), originated_.begin() + static_cast<long>(used));
  // Stages that read the ingress port's details (admit, ICMP errors) leave originated packets
  // alone; port 0 always exists in the snapshot, the tunnel's virtual port only while peers do.
  burst.in_port = 0;
  burst.count = n;
  return n;
}

uint32_t LcoreTunnels::path_identity(const TunnelTable& t, const TunnelPath& path) {
  // FNV-1a over the parts: a collision only keeps a path's measurements across a change.
  uint32_t h = 2166136261u;
  const auto mix = [&h](const void* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h = (h ^ static_cast<const uint8_t*>(data)[i]) * 16777619u;
    }
  };
  mix(&t.links[path.link].port, sizeof(PortId));
  mix(path.next_hop, sizeof path.next_hop);
  mix(&path.to.family, 1);
  mix(path.to.address, sizeof path.to.address);
  mix(&path.to.port, sizeof path.to.port);
  return h;
}

const TunnelPath* LcoreTunnels::path_in(const TunnelTable& t, uint16_t slot, int16_t path) const {
  if (path < 0 || t.paths.empty() || slot >= t.paths.size() || path >= t.paths[slot].count) {
    return nullptr;
  }
  const TunnelPath& p = t.paths[slot].path[static_cast<size_t>(path)];
  return p.link < t.link_count ? &p : nullptr;
}

int16_t LcoreTunnels::choose_active(uint16_t slot, const TunnelTable& t) const {
  const Peer& p = peers_[slot];
  if (!p.paths) {
    return -1;
  }
  // Chosen by hand: while it is up (back from down, after its hold, as any path: a flapping
  // link does not take the traffic back on every flap).
  if (t.generation == paths_generation_ && !t.paths.empty() && slot < t.paths.size()) {
    const int8_t preferred = t.paths[slot].preferred;
    if (preferred >= 0 && static_cast<size_t>(preferred) < p.paths->size() &&
        p.paths->monitor(static_cast<size_t>(preferred)).state() == paths::PathState::kUp) {
      return preferred;
    }
  }
  const auto active = p.paths->active();
  return active ? static_cast<int16_t>(*active) : int16_t{-1};
}

const TunnelPath* LcoreTunnels::path_for_packet(uint16_t slot, const TunnelTable& t,
                                                const PacketState& st) {
  const Peer& p = peers_[slot];
  const bool by_hand = t.generation == paths_generation_ && !t.paths.empty() &&
                       t.paths[slot].preferred >= 0 && p.active_path == t.paths[slot].preferred;
  if (!by_hand && p.classes && !t.classes.empty() && t.generation == paths_generation_) {
    const vigil_packet& in = st.parsed;
    paths::FlowKey key{.family = static_cast<uint8_t>(in.l3_proto == RTE_ETHER_TYPE_IPV4 ? 4 : 6),
                       .protocol = in.l4_proto,
                       .dscp = static_cast<uint8_t>(in.tos >> 2)};
    if (key.family == 4) {
      std::memcpy(key.source.data(), &in.src.v4, 4);
      std::memcpy(key.destination.data(), &in.dst.v4, 4);
    } else {
      std::memcpy(key.source.data(), in.src.v6, 16);
      std::memcpy(key.destination.data(), in.dst.v6, 16);
    }
    // A fragment is classified without ports, the first one too: every fragment of a
    // datagram then takes the same path.
    if ((in.l4_proto == IPPROTO_TCP || in.l4_proto == IPPROTO_UDP) && in.is_fragment == 0) {
      key.source_port = rte_be_to_cpu_16(in.sport);
      key.destination_port = rte_be_to_cpu_16(in.dport);
    }
    if (const auto c = paths::classify(t.classes, key)) {
      if (const auto k = p.classes->path_for(*c, ecmp_flow_hash(in, 0))) {
        if (const TunnelPath* via = path_in(t, slot, static_cast<int16_t>(*k))) {
          return via;
        }
      }
    }
  }
  return active_path(slot, t);
}

const TunnelPath* LcoreTunnels::active_path(uint16_t slot, const TunnelTable& t) const {
  if (t.generation != paths_generation_) {
    return nullptr;  // the paths are taken from the new table at the next poll
  }
  return path_in(t, slot, peers_[slot].active_path);
}

void LcoreTunnels::sync_paths(const TunnelTable& t) {
  paths_generation_ = t.generation;
  probed_.clear();
  const bool classes_changed = t.classes != classes_seen_;
  if (classes_changed) {
    classes_seen_ = t.classes;  // a config change: allocation is fine here
  }
  for (uint16_t slot = 0; slot < kMaxMeshPeers; ++slot) {
    Peer& p = peers_[slot];
    const TunnelPeerPaths* wanted =
        t.paths.empty() || !t.active[slot] || owner(slot) != shards_.self ? nullptr
                                                                          : &t.paths[slot];
    if (wanted == nullptr || wanted->interval_ms == 0 || wanted->count == 0) {
      if (p.paths) {
        p.paths.reset();
        p.classes.reset();
        p.active_path = -1;
        stats_[slot].paths.count.store(0, std::memory_order_relaxed);
      }
      continue;
    }
    const paths::PathTiming timing{.interval_ns = int64_t{wanted->interval_ms} * 1'000'000};
    if (!p.paths || p.paths->timing().interval_ns != timing.interval_ns) {
      // Made here, on a config change, never per packet; its paths' epochs from a range of
      // their own.
      p.paths = std::make_unique<paths::PeerPaths>(timing, paths::PathSla{}, next_epoch_);
      next_epoch_ += 1u << 16;
    }
    std::array<paths::PathKey, paths::kMaxPaths> before{};
    for (size_t k = 0; k < p.paths->size(); ++k) {
      before[k] = p.paths->key(k);
    }
    std::array<paths::PathKey, paths::kMaxPaths> keys{};
    for (size_t k = 0; k < wanted->count; ++k) {
      const TunnelPath& path = wanted->path[k];
      // What makes it the same path: the link's port, the next hop and the endpoint, not
      // only their places in the lists (a link removed moves the others up).
      keys[k] = {.link = path.link, .endpoint = path.endpoint, .id = path_identity(t, path)};
    }
    p.paths->set_paths(std::span<const paths::PathKey>(keys.data(), wanted->count));
    if (t.classes.empty()) {
      p.classes.reset();
    } else if (!p.classes) {
      p.classes = std::make_unique<paths::ClassPaths>();
    } else if (classes_changed) {
      p.classes->reset();
    } else {
      // The same classes: what was decided of each path that stays, stays, wherever it is now.
      std::array<int16_t, paths::kMaxPaths> from{};
      for (size_t k = 0; k < wanted->count; ++k) {
        from[k] = -1;
        for (size_t old = 0; old < paths::kMaxPaths; ++old) {
          if (before[old] == keys[k] && !(before[old] == paths::PathKey{})) {
            from[k] = static_cast<int16_t>(old);
            break;
          }
        }
      }
      p.classes->remap(from, wanted->count);
    }
    for (size_t k = 0; k < wanted->count; ++k) {
      if (!(before[k] == keys[k])) {
        // Another path in this place: its counters start again too.
        stats_[slot].paths.path[k].transitions.store(0, std::memory_order_relaxed);
      }
    }
    p.active_path = choose_active(slot, t);
    stats_[slot].paths.count.store(static_cast<uint8_t>(p.paths->size()),
                                   std::memory_order_relaxed);
    publish_path_stats(slot, t, steady_ns());
    probed_.push_back(slot);
  }
}

void LcoreTunnels::run_paths(const TunnelTable& t, int64_t now_ns) {
  const bool publish = now_ns >= next_path_stats_ns_;
  if (publish) {
    next_path_stats_ns_ = now_ns + 100'000'000;
  }
  std::array<uint16_t, paths::kMaxPaths> due{};
  for (uint16_t slot : probed_) {
    Peer& p = peers_[slot];
    const size_t n = p.paths->due(now_ns, due);
    for (size_t k = 0; k < n; ++k) {
      send_probe(slot, due[k], now_ns);
    }
    evaluate_paths(slot, t, now_ns, /*tick=*/true);
    if (publish) {
      publish_path_stats(slot, t, now_ns);
    }
  }
}

void LcoreTunnels::send_probe(uint16_t slot, uint16_t path, int64_t now_ns) {
  Peer& p = peers_[slot];
  if (!usable(p.current, now_ns) || originated_.size() == kMaxOriginated) {
    return;  // the control thread makes a session for a probed peer
  }
  // The probe is made (its sequence number taken) only once its mbuf exists: a number taken
  // for nothing would be outbound loss at the peer.
  rte_mbuf* m = make_sealed(slot, paths::kProbeSize, now_ns, [&](std::span<uint8_t> inner) {
    paths::encode(p.paths->probe(path, now_ns), inner.first<paths::kProbeSize>());
  });
  if (m == nullptr) {
    return;
  }
  originated_.push_back({.packet = m,
                         .state = {},
                         .to = {},  // sent only on its path, never by the routes
                         .payload = true,
                         .path = static_cast<int16_t>(path),
                         .slot = slot,
                         .generation = paths_generation_,
                         .probe = true});
}

std::optional<DropReason> LcoreTunnels::take_probe(uint16_t slot, const TunnelTable& t,
                                                   PortId in_port, const TunnelEndpoint& from,
                                                   std::span<const uint8_t> inner, int64_t now_ns) {
  const auto m = paths::decode(inner);
  if (!m) {
    return DropReason::kPathProbeMalformed;
  }
  Peer& p = peers_[slot];
  if (t.generation != paths_generation_ || t.paths.empty()) {
    return std::nullopt;  // the paths change at the next poll: this one is not counted
  }
  // The path is where it came from and what it came in by: our link's port and the peer's
  // endpoint, as this side lists them.
  const TunnelPeerPaths& listed = t.paths[slot];
  const size_t count = std::min<size_t>(listed.count, p.paths->size());
  for (size_t k = 0; k < count; ++k) {
    const TunnelPath& path = listed.path[k];
    if (path.link < t.link_count && t.links[path.link].port == in_port && path.to == from) {
      p.paths->received(k, *m, now_ns);
      evaluate_paths(slot, t, now_ns, /*tick=*/false);
      return std::nullopt;
    }
  }
  return DropReason::kPathProbeUnmatched;
}

void LcoreTunnels::evaluate_paths(uint16_t slot, const TunnelTable& t, int64_t now_ns, bool tick) {
  Peer& p = peers_[slot];
  std::array<paths::PathEvent, paths::kMaxPaths> events{};
  const size_t n = p.paths->evaluate(now_ns, events);
  if (p.classes && t.generation == paths_generation_ && (tick || n > 0)) {
    // Every millisecond, and at once on a change of state: the classes' choices follow the
    // measurements (a path drifts past a class's terms while staying up), not only the states.
    p.classes->evaluate(t.classes, *p.paths, now_ns);
  }
  if (n == 0) {
    return;
  }
  TunnelPeerPathStats& stats = stats_[slot].paths;
  for (size_t k = 0; k < n; ++k) {
    const paths::PathEvent& e = events[k];
    TunnelPathStats& s = stats.path[e.path];
    s.state.store(static_cast<uint8_t>(e.transition.to), std::memory_order_relaxed);
    s.since_ns.store(e.transition.at_ns, std::memory_order_relaxed);
    s.transitions.store(s.transitions.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
    // For the log and show paths; the room kept for retiring sessions is not taken.
    if (channel_.event_room() > kEventReserve) {
      (void)channel_.event({.kind = MeshEvent::Kind::kPath,
                            .slot = slot,
                            .index = static_cast<uint32_t>(e.path),
                            .transition = e.transition,
                            .generation = paths_generation_});
    }
  }
  // The traffic moves in this same burst: the next packet sealed takes the new path.
  p.active_path = choose_active(slot, t);
  for (size_t k = 0; k < p.paths->size(); ++k) {
    stats.path[k].active.store(static_cast<int16_t>(k) == p.active_path, std::memory_order_relaxed);
  }
}

void LcoreTunnels::publish_path_stats(uint16_t slot, const TunnelTable& t, int64_t now_ns) {
  const Peer& p = peers_[slot];
  TunnelPeerPathStats& out = stats_[slot].paths;
  const auto ppm = [](const paths::Loss& l) {
    return static_cast<uint32_t>(std::lround(l.ratio() * 1e6));
  };
  for (size_t k = 0; k < p.paths->size(); ++k) {
    const paths::PathSnapshot s = p.paths->stats(k).snapshot(now_ns);
    TunnelPathStats& o = out.path[k];
    o.state.store(static_cast<uint8_t>(p.paths->monitor(k).state()), std::memory_order_relaxed);
    o.since_ns.store(p.paths->monitor(k).since_ns(), std::memory_order_relaxed);
    o.active.store(static_cast<int16_t>(k) == p.active_path, std::memory_order_relaxed);
    o.rtt_ns.store(s.rtt_ns.value_or(-1), std::memory_order_relaxed);
    o.rtt_p50_ns.store(s.rtt_p50_ns.value_or(-1), std::memory_order_relaxed);
    o.rtt_p99_ns.store(s.rtt_p99_ns.value_or(-1), std::memory_order_relaxed);
    o.jitter_in_ns.store(s.jitter_in_ns, std::memory_order_relaxed);
    o.jitter_out_ns.store(s.jitter_out_ns, std::memory_order_relaxed);
    o.loss_in_1s_ppm.store(ppm(s.loss_in_1s), std::memory_order_relaxed);
    o.loss_out_1s_ppm.store(ppm(s.loss_out_1s), std::memory_order_relaxed);
    o.loss_in_10s_ppm.store(ppm(s.loss_in_10s), std::memory_order_relaxed);
    o.loss_out_10s_ppm.store(ppm(s.loss_out_10s), std::memory_order_relaxed);
    o.last_heard_ns.store(s.last_heard_ns, std::memory_order_relaxed);
    // Chosen by hand, the path carries every class (path_for_packet).
    const bool by_hand = p.active_path >= 0 && t.generation == paths_generation_ &&
                         !t.paths.empty() && t.paths[slot].preferred == p.active_path;
    const uint32_t all = t.classes.size() >= 32 ? ~0u : (1u << t.classes.size()) - 1;
    o.classes.store(by_hand     ? (static_cast<int16_t>(k) == p.active_path ? all : 0)
                    : p.classes ? p.classes->classes_on(k)
                                : 0,
                    std::memory_order_relaxed);
    o.sent.store(s.sent, std::memory_order_relaxed);
    o.received.store(s.received, std::memory_order_relaxed);
  }
}

}  // namespace vigil::dp

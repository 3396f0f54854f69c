#include "dataplane/pipeline/route_stage.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>
#include <utility>

#include "dataplane/packet/flow_hash.h"
#include "dataplane/packet/ip_checksum.h"
#include "dataplane/packet/ipv4_options.h"
#include "dataplane/pipeline/lcore_counters.h"

namespace vigil::dp {
namespace {

bool is_v4(const vigil_packet& p) {
  return p.l3_proto == RTE_ETHER_TYPE_IPV4;
}

uint8_t* l3(rte_mbuf* m, const vigil_packet& p) {
  return rte_pktmbuf_mtod_offset(m, uint8_t*, p.l3_offset);
}

// What another site sends the box, decrypted, held to the classifier's rules for the box.
bool admitted_from_tunnel(const vigil_packet& p, const LocalPolicy& policy) {
  const bool v4 = is_v4(p);
  return policy.admits(v4 ? 4 : 6, v4 ? reinterpret_cast<const uint8_t*>(&p.src.v4) : p.src.v6,
                       v4 ? reinterpret_cast<const uint8_t*>(&p.dst.v4) : p.dst.v6, p.l4_proto,
                       rte_be_to_cpu_16(p.dport), !p.l4_unknown, p.later_fragment != 0);
}

}  // namespace

RouteStage::RouteStage(const RouteTable& routes, std::shared_ptr<IcmpResponder> icmp,
                       uint32_t hash_seed)
    : routes_(routes), icmp_(std::move(icmp)), hash_seed_(hash_seed) {}

void RouteStage::process(Burst& burst) {
  const ForwardingSnapshot* snap = routes_.snapshot();
  uint32_t v4_dst[kBurstSize];
  uint8_t v6_dst[kBurstSize][16];
  uint16_t v4_index[kBurstSize], v6_index[kBurstSize];
  uint64_t v4_group[kBurstSize], v6_group[kBurstSize];
  int n4 = 0, n6 = 0;
  for (uint16_t i = 0; i < burst.count; ++i) {
    if (!burst.in_flight(i) || burst.state[i].originated) {
      continue;  // decided, or an error the box made, already routed back
    }
    const vigil_packet& p = burst.state[i].parsed;
    if (is_v4(p)) {
      v4_index[n4] = i;
      v4_dst[n4++] = rte_be_to_cpu_32(p.dst.v4);
    } else {
      v6_index[n6] = i;
      std::memcpy(v6_dst[n6++], p.dst.v6, 16);
    }
  }
  if (n4 > 0) {
    snap->fib->lookup4(v4_dst, v4_group, n4);
  }
  if (n6 > 0) {
    snap->fib->lookup6(v6_dst, v6_group, n6);
  }
  if (snap->ports[burst.in_port].from_kernel) [[unlikely]] {
    for (int k = 0; k < n4; ++k) {
      route_from_kernel(burst, v4_index[k], *snap, v4_group[k]);
    }
    for (int k = 0; k < n6; ++k) {
      route_from_kernel(burst, v6_index[k], *snap, v6_group[k]);
    }
    return;
  }
  for (int k = 0; k < n4; ++k) {
    route(burst, v4_index[k], *snap, v4_group[k]);
  }
  for (int k = 0; k < n6; ++k) {
    route(burst, v6_index[k], *snap, v6_group[k]);
  }
}

void RouteStage::route_from_kernel(Burst& burst, uint16_t i, const ForwardingSnapshot& snap,
                                   uint64_t group) {
  const GroupEntry& g = snap.entry(group);
  // The kernel routes only the mesh's prefixes to the device; anything else (a route changed
  // since, a packet for the box itself) must not leave in the clear or loop back to it.
  if (g.action != RouteAction::kForward || snap.forwarders[g.first].port != kTunnelPort) {
    burst.drop(i, DropReason::kKernelPathNotMesh);
    return;
  }
  PacketState& st = burst.state[i];
  const vigil_packet& p = st.parsed;
  const Forwarder& f = snap.forwarders[g.first];  // the tunnel is one next hop
  if (p.l3_length > f.mtu) [[unlikely]] {
    // The device's MTU is the tunnel's: only a packet the kernel was told to send larger.
    if (p.l3_proto != RTE_ETHER_TYPE_IPV4 || p.dont_fragment) {
      burst.drop(i, DropReason::kTooBig);
      return;
    }
    st.fragment_mtu = f.mtu;
  }
  IcmpResponder::set_next_hop(st, f);
}

void RouteStage::route(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, uint64_t group) {
  const GroupEntry& g = snap.entry(group);
  if (g.action != RouteAction::kForward) [[unlikely]] {
    if (g.action == RouteAction::kLocal) {
      if (burst.state[i].tunnel && snap.local_policy) [[unlikely]] {
        if (!admitted_from_tunnel(burst.state[i].parsed, *snap.local_policy)) {
          burst.drop(i, DropReason::kTunnelLocalDenied);
          return;
        }
      }
      burst.state[i].disposition = Disposition::kToKernel;
    } else if (g.action == RouteAction::kBlackhole) {
      burst.drop(i, DropReason::kBlackhole);
    } else {
      icmp_->reject(burst, i, snap, DropReason::kNoRoute, IcmpError::kNetUnreachable);
    }
    return;
  }
  PacketState& st = burst.state[i];
  const vigil_packet& p = st.parsed;
  uint8_t* ip = l3(burst.packets[i], p);
  const bool v4 = is_v4(p);
  const uint8_t ttl = v4 ? ip[8] : ip[7];
  if (ttl <= 1) [[unlikely]] {
    icmp_->reject(burst, i, snap, DropReason::kTtlExceeded, IcmpError::kTimeExceeded);
    return;
  }
  // A group of one (a single gateway, a connected subnet) needs no hash.
  const Forwarder& f =
      g.buckets == 1 ? snap.forwarders[g.first] : snap.pick(g, ecmp_flow_hash(p, hash_seed_));
  if (p.l3_length > f.mtu) [[unlikely]] {
    // IPv6 never fragments in transit, nor IPv4 with DF: the sender learns the path MTU.
    // IPv4 without DF is forwarded in fragments, made where it leaves (transmit.h).
    if (!v4 || p.dont_fragment) {
      icmp_->reject(burst, i, snap, DropReason::kTooBig, IcmpError::kFragmentationNeeded, f.mtu);
      return;
    }
    st.fragment_mtu = f.mtu;
  }
  if (v4) {
    ipv4_decrement_ttl(ip);
    if ((ip[0] & 0x0f) > 5) [[unlikely]] {
      record_in_options(ip, snap, burst.in_port, f.port);
    }
  } else {
    --ip[7];
  }
  IcmpResponder::set_next_hop(st, f);
}

void RouteStage::record_in_options(uint8_t* ip, const ForwardingSnapshot& snap, PortId in,
                                   PortId out) {
  const size_t header = (ip[0] & 0x0fu) * size_t{4};
  const PortInfo& egress = snap.ports[out];
  const PortInfo& ingress = snap.ports[in];
  const Ipv4OptionsEntry entry{.egress_address = egress.has_v4 ? egress.v4 : nullptr,
                               .ingress_address = ingress.has_v4 ? ingress.v4 : nullptr,
                               .timestamp = ms_since_midnight_ut(),
                               .is_ours = [&snap](const uint8_t* a) {
                                 return snap.locals.has4(uint32_t{a[0]} << 24 |
                                                         uint32_t{a[1]} << 16 |
                                                         uint32_t{a[2]} << 8 | a[3]);
                               }};
  if (fill_ipv4_options(ip, header, entry)) {
    ip[10] = ip[11] = 0;
    const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(ip, header));
    std::memcpy(ip + 10, &sum, 2);
  }
}

}  // namespace vigil::dp

#include "dataplane/pipeline/admit_stage.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "dataplane/packet/ip_checksum.h"
#include "dataplane/packet/ipv4_options.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#include "vigil/martian.h"
#pragma GCC diagnostic pop

namespace vigil::dp {
namespace {

bool group_destination(const vigil_packet& p) {
  return p.l3_proto == RTE_ETHER_TYPE_IPV4 ? vigil_group_destination4(p.dst.v4) != 0
                                           : vigil_group_destination6(p.dst.v6) != 0;
}

}  // namespace

AdmitStage::AdmitStage(const RouteTable& routes, std::shared_ptr<IcmpResponder> icmp)
    : routes_(routes), icmp_(std::move(icmp)) {}

void AdmitStage::process(Burst& burst) {
  const ForwardingSnapshot* snap = routes_.snapshot();
  const PortInfo& port = snap->ports[burst.in_port];
  for (uint16_t i = 0; i < burst.count; ++i) {
    if (burst.in_flight(i) && !burst.state[i].originated) {
      admit(burst, i, *snap, port);
    }
  }
}

void AdmitStage::admit(Burst& burst, uint16_t i, const ForwardingSnapshot& snap,
                       const PortInfo& port) {
  PacketState& st = burst.state[i];
  const vigil_packet& p = st.parsed;
  rte_mbuf* m = burst.packets[i];
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (rte_is_multicast_ether_addr(&eth->dst_addr)) [[unlikely]] {
    if (port.from_kernel) {
      burst.drop(i, DropReason::kKernelPathGroup);  // back to the kernel it came from: a loop
      return;
    }
    st.disposition = Disposition::kToKernel;  // broadcast and multicast: never routed
    return;
  }
  if (!rte_is_same_ether_addr(&eth->dst_addr, &port.mac)) [[unlikely]] {
    burst.drop(i, DropReason::kOtherHost);
    return;
  }
  if (p.vlan_count != 0 && !(p.vlan_count == 1 && p.vlan_ids[0] == 0)) [[unlikely]] {
    if (p.vlan_count == 1 &&
        std::binary_search(port.vlans.begin(), port.vlans.end(), p.vlan_ids[0])) {
      st.disposition = Disposition::kToKernel;  // a VLAN sub-interface: the kernel's
    } else {
      burst.drop(i, DropReason::kUnknownVlan);
    }
    return;
  }
  const uint32_t frame_length = p.l3_offset + p.l3_length;
  if (rte_pktmbuf_pkt_len(m) > frame_length) [[unlikely]] {
    // Padding or trailing bytes: not part of the packet, never sent on with it.
    if (rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - frame_length)) != 0) {
      burst.drop(i, DropReason::kMalformed);
      return;
    }
  }
  const bool v4 = p.l3_proto == RTE_ETHER_TYPE_IPV4;
  if (v4) {
    const auto* ip = rte_pktmbuf_mtod_offset(m, const uint8_t*, p.l3_offset);
    const size_t header = (ip[0] & 0x0fu) * size_t{4};
    if (!ipv4_header_checksum_ok(ip, header)) [[unlikely]] {
      burst.drop(i, DropReason::kBadChecksum);
      return;
    }
    if (header > sizeof(rte_ipv4_hdr)) [[unlikely]] {
      const Ipv4OptionsCheck options = check_ipv4_options(ip, header);
      if (options.verdict == Ipv4OptionsCheck::Verdict::kParameterProblem) {
        icmp_->reject(burst, i, snap, DropReason::kBadIpOptions, IcmpError::kParameterProblem,
                      options.pointer);
        return;
      }
      if (options.verdict == Ipv4OptionsCheck::Verdict::kSourceRoute) {
        burst.drop(i, DropReason::kSourceRoute);
        return;
      }
    }
  }
  const int martian = v4 ? vigil_martian4(p.src.v4, p.dst.v4, port.allow_martians)
                         : vigil_martian6(p.src.v6, p.dst.v6, port.allow_martians);
  if (martian != VIGIL_MARTIAN_NONE) [[unlikely]] {
    burst.drop(i, martian_drop(martian));
    return;
  }
  if (group_destination(p)) [[unlikely]] {
    if (port.from_kernel) {
      burst.drop(i, DropReason::kKernelPathGroup);
      return;
    }
    if (st.tunnel) {
      // Another site's broadcast or multicast, decrypted: the box's kernel takes no group
      // traffic from the mesh (a host there would reach every socket bound to any address).
      burst.drop(i, DropReason::kTunnelGroupDestination);
      return;
    }
    st.disposition = Disposition::kToKernel;  // for the box, or no one: never routed
    return;
  }
  const bool own_source =
      v4 ? snap.locals.has4(rte_be_to_cpu_32(p.src.v4)) : snap.locals.has6(p.src.v6);
  // From the mesh's kernel device only the box's own packets; from anywhere else never one
  // that claims to be the box's.
  if (port.from_kernel && !own_source) [[unlikely]] {
    burst.drop(i, DropReason::kKernelPathForeignSource);
  } else if (!port.from_kernel && own_source) [[unlikely]] {
    burst.drop(i, DropReason::kMartianOwnSource);
  }
}

}  // namespace vigil::dp

// Second stage: what a router accepts to forward at all (RFC 1812 5.2-5.3, RFC 8200, and
// Linux's ip_rcv/ip_forward as the reference the conformance test compares with), before a
// route is looked up:
//
//  - the frame was sent to this port's MAC: another host's unicast is dropped (other_host),
//    broadcast and multicast frames are the kernel's, never routed;
//  - no VLAN tag but a priority tag (VLAN 0): a configured VLAN's frames are the kernel's,
//    any other tag (and any second tag) is dropped (unknown_vlan);
//  - the frame is trimmed to the IP packet's length (Ethernet padding, trailing bytes);
//  - IPv4: the header checksum holds, the options are well formed (else an ICMP parameter
//    problem, as Linux answers) and name no source route;
//  - no martian source or destination (vigil/martian.h, with what the port allows) and not
//    the box's own address as a source; multicast and broadcast destinations are the kernel's.
//
// On AF_XDP ports the XDP classifier has already passed group-addressed frames and VLANs to
// the kernel; this stage is what holds on DPDK ports, and the one place the rest is decided.
#pragma once

#include <memory>

#include "dataplane/forwarding/route_table.h"
#include "dataplane/pipeline/icmp_responder.h"
#include "dataplane/pipeline/stage.h"

namespace vigil::dp {

class AdmitStage final : public Stage {
 public:
  AdmitStage(const RouteTable& routes, std::shared_ptr<IcmpResponder> icmp);
  const char* name() const override { return "admit"; }
  void process(Burst& burst) override;

 private:
  void admit(Burst& burst, uint16_t i, const ForwardingSnapshot& snap, const PortInfo& port);

  const RouteTable& routes_;
  std::shared_ptr<IcmpResponder> icmp_;
};

}  // namespace vigil::dp

// Why the fast path dropped a packet, declared once: the enum and the counter names
// (vigil_dp_drops_total{reason="..."}) both come from this list.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#define VIGIL_DP_DROP_REASONS(X)                                                                   \
  X(kMalformed, "malformed")           /* failed the parse the classifier uses */                  \
  X(kOtherHost, "other_host")          /* to another host's MAC: not ours to route */              \
  X(kUnknownVlan, "unknown_vlan")      /* tagged with a VLAN the port does not have */             \
  X(kBadChecksum, "bad_ipv4_checksum") /* the IPv4 header's checksum is wrong */                   \
  X(kBadIpOptions, "bad_ipv4_options") /* malformed options; parameter problem sent */             \
  X(kSourceRoute, "source_route")      /* LSRR/SSRR: never honoured (RFC 7126) */                  \
  X(kMartianOwnSource, "martian_source_own_address") /* spoofed: from the box */                   \
  /* the martians of vigil/martian.h, in its order (martian_drop() maps them) */                   \
  X(kMartianSourceThisNetwork, "martian_source_this_network")                                      \
  X(kMartianSourceLoopback, "martian_source_loopback")                                             \
  X(kMartianSourceMulticast, "martian_source_multicast")                                           \
  X(kMartianSourceBroadcast, "martian_source_broadcast")                                           \
  X(kMartianSourceReserved, "martian_source_reserved")                                             \
  X(kMartianSourceLinkLocal, "martian_source_link_local")                                          \
  X(kMartianSourceUnspecified, "martian_source_unspecified")                                       \
  X(kMartianSourceIpv4Mapped, "martian_source_ipv4_mapped")                                        \
  X(kMartianDestinationThisNetwork, "martian_destination_this_network")                            \
  X(kMartianDestinationLoopback, "martian_destination_loopback")                                   \
  X(kMartianDestinationReserved, "martian_destination_reserved")                                   \
  X(kMartianDestinationLinkLocal, "martian_destination_link_local")                                \
  X(kMartianDestinationUnspecified, "martian_destination_unspecified")                             \
  X(kMartianDestinationIpv4Mapped, "martian_destination_ipv4_mapped")                              \
  X(kNoRoute, "no_route")                         /* nothing in the FIB; ICMP unreachable */       \
  X(kBlackhole, "blackhole")                      /* a configured discard route */                 \
  X(kTtlExceeded, "ttl_exceeded")                 /* TTL or hop limit ran out; ICMP sent */        \
  X(kTooBig, "too_big")                           /* over the egress MTU; ICMP sent */             \
  X(kFragmentationFailed, "fragmentation_failed") /* no mbufs left for the fragments */            \
  X(kNoNeighbour, "no_neighbour")                 /* the next hop did not resolve in time */       \
  X(kHoldQueueFull, "hold_queue_full")            /* too many packets awaiting ARP/ND */           \
  X(kQueueFull, "queue_full")                     /* the egress port's TX queue was full */        \
  X(kNoKernelPath, "no_kernel_path")              /* for the box, but no exception port */         \
  X(kKernelPathGroup, "kernel_path_group")        /* the kernel's multicast on the mesh device */  \
  X(kKernelPathForeignSource, "kernel_path_foreign_source") /* not from the box's addresses */     \
  X(kKernelPathNotMesh, "kernel_path_not_mesh") /* the kernel's, not routed into the mesh */       \
  /* the mesh's transport (dataplane/mesh/): */                                                    \
  X(kTunnelMalformed, "wg_malformed")                /* not a WireGuard message, or bad inside */  \
  X(kTunnelGroupDestination, "wg_group_destination") /* decrypted broadcast or multicast */        \
  X(kTunnelLocalDenied, "wg_local_denied")           /* for the box, refused as filter would */    \
  X(kTunnelNoSession, "wg_no_session")               /* no session has its index */                \
  X(kTunnelSessionExpired, "wg_session_expired") /* past REJECT_AFTER_TIME or its message limit */ \
  X(kTunnelHandshakeFailed, "wg_handshake_failed")    /* waited for a handshake that gave up */    \
  X(kTunnelReplay, "wg_replay")                       /* a counter already taken or too old */     \
  X(kTunnelBadTag, "wg_bad_tag")                      /* did not authenticate */                   \
  X(kTunnelSourceNotAllowed, "wg_source_not_allowed") /* inner source not the peer's */            \
  X(kTunnelHandshakeBusy, "wg_handshake_queue_full")  /* the control thread is behind */           \
  X(kTunnelNoPeer, "wg_no_peer")                 /* routed to the mesh, no allowed IP holds it */  \
  X(kTunnelStagedOverflow, "wg_staged_overflow") /* too many waiting for a handshake */            \
  X(kTunnelNoEndpoint, "wg_no_endpoint")         /* the peer's address is not known yet */         \
  X(kTunnelNoRouteToEndpoint, "wg_no_route_to_endpoint")                                           \
  X(kTunnelNoSourceAddress, "wg_no_source_address") /* the wan port has no address */              \
  X(kTunnelNoRoom, "wg_no_room")                    /* no headroom or tailroom in the mbuf */      \
  X(kTunnelNoMbuf, "wg_no_mbuf")                    /* no mbuf for a keepalive */                  \
  X(kTunnelHandoffFull, "wg_handoff_full") /* the peer's lcore is behind: its inbox is full */     \
  X(kPathProbeMalformed, "path_probe_malformed") /* authenticated, but not a probe we know */      \
  X(kPathProbeUnmatched, "path_probe_unmatched") /* on no path of the peer's (a NAT, say) */       \
  X(kUnclaimed, "unclaimed")                     /* no stage decided: a bug, never expected */

namespace vigil::dp {

enum class DropReason : uint8_t {
#define VIGIL_X(name, text) name,
  VIGIL_DP_DROP_REASONS(VIGIL_X)
#undef VIGIL_X
      kCount
};

inline constexpr std::array<std::string_view, static_cast<size_t>(DropReason::kCount)>
    kDropReasonNames = {
#define VIGIL_X(name, text) text,
        VIGIL_DP_DROP_REASONS(VIGIL_X)
#undef VIGIL_X
};

// The drop reason of a martian (enum vigil_martian, not VIGIL_MARTIAN_NONE): the martians
// follow kMartianSourceThisNetwork in vigil/martian.h's order, which a unit test holds.
inline DropReason martian_drop(int martian) {
  return static_cast<DropReason>(static_cast<int>(DropReason::kMartianSourceThisNetwork) + martian -
                                 1);
}

}  // namespace vigil::dp

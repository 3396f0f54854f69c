// Why the fast path dropped a packet, declared once: the enum and the counter names
// (vigil_dp_drops_total{reason="..."}) both come from this list.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#define VIGIL_DP_DROP_REASONS(X)                                                  \
  X(kMalformed, "malformed")           /* failed the parse the classifier uses */ \
  X(kNoRoute, "no_route")              /* nothing in the FIB; ICMP unreachable */ \
  X(kBlackhole, "blackhole")           /* a configured discard route */           \
  X(kTtlExceeded, "ttl_exceeded")      /* TTL or hop limit ran out; ICMP sent */  \
  X(kTooBig, "too_big")                /* over the egress MTU; ICMP sent */       \
  X(kNoNeighbour, "no_neighbour")      /* the next hop did not resolve in time */ \
  X(kHoldQueueFull, "hold_queue_full") /* too many packets awaiting ARP/ND */     \
  X(kQueueFull, "queue_full")          /* the egress port's TX queue was full */  \
  X(kNoKernelPath, "no_kernel_path")   /* for the box, but no exception port */   \
  X(kUnclaimed, "unclaimed")           /* no stage decided: a bug, never expected */

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

}  // namespace vigil::dp

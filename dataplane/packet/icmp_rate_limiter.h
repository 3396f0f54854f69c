// How many ICMP errors one lcore may send, as token buckets in the TSC's own units (a bucket
// holds time credit, a message costs one interval), so a refill never loses a fraction.
//
// Linux is the anchor. It allows each destination of its errors (the offending packet's source)
// one message a second with a burst of six (net.ipv4.icmp_ratelimit = 1000 ms,
// XRLIM_BURST_FACTOR), and the host 1,000 a second with a burst of 50 (icmp_msgs_per_sec,
// icmp_msgs_burst), for every error its icmp_ratemask names; it exempts "fragmentation needed"
// and "packet too big" from both, so path-MTU discovery never waits. Here those two are
// limited too, in buckets of their own (a kind), so nothing unbounded leaves the box and no
// flood of one kind starves the other: a TTL=1 flood cannot silence path-MTU discovery, and
// one source cannot use up another's share.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "vigil/credit_bucket.h"
#pragma GCC diagnostic pop

namespace vigil::dp {

enum class IcmpKind : uint8_t {
  kError,    // time exceeded, unreachable, parameter problem
  kPathMtu,  // fragmentation needed, packet too big
};
inline constexpr size_t kIcmpKinds = 2;

struct IcmpBucketRate {
  uint32_t per_second = 0;  // 0: unlimited
  uint32_t burst = 1;
};

struct IcmpLimits {
  IcmpBucketRate per_source[kIcmpKinds] = {{1, 6}, {100, 100}};
  IcmpBucketRate total[kIcmpKinds] = {{1000, 50}, {1000, 50}};
};

class IcmpRateLimiter {
 public:
  static constexpr size_t kSources = 1024;  // sources remembered at once (a power of two)

  IcmpRateLimiter(const IcmpLimits& limits, uint64_t tsc_hz);

  // Whether an error of `kind` to `address` (4 or 16 bytes, network order, per `family`) may
  // go now; takes its tokens when it may. A source that no slot remembers starts with a full
  // bucket, as a new peer does in Linux; the total bounds what many sources can draw.
  bool allow(IcmpKind kind, const uint8_t* address, uint8_t family, uint64_t now_tsc);

 private:
  using Bucket = vigil_credit_bucket;  // TSC ticks of credit, at most `burst` intervals
  struct Rate {
    uint64_t interval = 0;  // TSC ticks per message; 0: unlimited
    uint64_t capacity = 0;
  };
  struct Slot {
    uint8_t address[16] = {};
    uint8_t family = 0;  // 0: empty
    Bucket bucket{};
  };
  static Rate rate_of(const IcmpBucketRate& r, uint64_t tsc_hz);
  static bool has_token(Bucket& b, const Rate& r, uint64_t now);
  static void take(Bucket& b, const Rate& r) { vigil_credit_take(&b, r.interval); }

  Rate source_rate_[kIcmpKinds];
  Rate total_rate_[kIcmpKinds];
  Bucket total_[kIcmpKinds] = {};
  std::array<Slot, kSources * kIcmpKinds> slots_{};
};

}  // namespace vigil::dp

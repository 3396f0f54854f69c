/* A token bucket kept as time credit: a message costs one `interval` of the clock's units
 * (nanoseconds in XDP, TSC ticks in vigil-dp), the credit grows by the time elapsed and is
 * capped at `capacity` (interval * burst). Credit carries no fraction to lose, so a bucket
 * refilled often still gives exactly its rate. The classifier's and vigil-dp's ICMP error
 * limits both count with it. */
#ifndef VIGIL_CREDIT_BUCKET_H
#define VIGIL_CREDIT_BUCKET_H

#include "vigil/compat.h"

struct vigil_credit_bucket {
  __u64 credit;
  __u64 last; /* when the credit was brought up to date */
};

/* Brings the credit up to `now`; a clock that went back adds nothing. */
static __always_inline void vigil_credit_refill(struct vigil_credit_bucket* b, __u64 now,
                                                __u64 capacity) {
  if (now > b->last) {
    const __u64 credit = b->credit + (now - b->last);
    b->credit = credit > capacity ? capacity : credit;
  }
  b->last = now;
}

static __always_inline int vigil_credit_has(const struct vigil_credit_bucket* b, __u64 interval) {
  return b->credit >= interval;
}

static __always_inline void vigil_credit_take(struct vigil_credit_bucket* b, __u64 interval) {
  b->credit -= interval;
}

#endif /* VIGIL_CREDIT_BUCKET_H */

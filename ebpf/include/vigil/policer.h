/* Token-bucket policing, one bucket per policer per CPU (no atomics on the packet path). The
 * arithmetic is here, free of maps, so the host tests can drive it with a fake clock. */
#ifndef VIGIL_POLICER_H
#define VIGIL_POLICER_H

#include "vigil/classifier_types.h"
#include "vigil/compat.h"

#define VIGIL_NANO 1000000000ull

/* The bucket's level after `elapsed_ns` of refill at `rate`, capped at `burst`. */
static __always_inline __u64 vigil_bucket_refill(__u64 tokens, __u64 elapsed_ns, __u64 rate,
                                                 __u64 burst, __u64 fill_ns) {
  /* Past fill_ns the bucket is full; before it, elapsed * rate < burst cannot overflow. */
  if (elapsed_ns >= fill_ns) {
    return burst;
  }
  tokens += elapsed_ns * rate;
  return tokens > burst ? burst : tokens;
}

/* Takes one packet of `bytes` from the bucket if both the packet and the byte allowance hold
 * it; returns 1 to pass, 0 to drop. A dropped packet takes nothing. */
static __always_inline int vigil_police(const struct vigil_policer* cfg, struct vigil_bucket* b,
                                        __u64 now_ns, __u64 bytes) {
  const __u64 elapsed = now_ns - b->last_ns;
  __u64 packets = b->packet_tokens;
  __u64 octets = b->byte_tokens;
  int pass = 1;
  if (cfg->packet_rate != 0) {
    packets = vigil_bucket_refill(packets, elapsed, cfg->packet_rate, cfg->packet_burst,
                                  cfg->packet_fill_ns);
    pass = packets >= VIGIL_NANO;
  }
  if (cfg->byte_rate != 0) {
    octets =
        vigil_bucket_refill(octets, elapsed, cfg->byte_rate, cfg->byte_burst, cfg->byte_fill_ns);
    pass = pass && octets >= bytes * VIGIL_NANO;
  }
  if (pass) {
    if (cfg->packet_rate != 0) {
      packets -= VIGIL_NANO;
    }
    if (cfg->byte_rate != 0) {
      octets -= bytes * VIGIL_NANO;
    }
  }
  b->last_ns = now_ns;
  b->packet_tokens = packets;
  b->byte_tokens = octets;
  return pass;
}

#endif /* VIGIL_POLICER_H */

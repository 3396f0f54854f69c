/* Rewriting a frame's start in place: moving its L2 header (VLAN tags included) and setting
 * the ethertype in front of L3, for the ICMP errors and the encapsulation that change L3. */
#ifndef VIGIL_CLASSIFIER_FRAME_H
#define VIGIL_CLASSIFIER_FRAME_H

#include "vigil/parse.h"

/* The most L2 the parser accepts: Ethernet and two VLAN tags. */
#define VIGIL_MAX_L2 22

/* Copies the frame's L2 header (with its VLAN tags) `moved` bytes back to the new start, after
 * bpf_xdp_adjust_head() made room. VIGIL_MAX_L2 bytes always move: any beyond the real header
 * land where the caller writes its own header next. The caller re-reads ctx->data after. */
static __always_inline int move_l2(struct xdp_md* ctx, __u32 moved, __u8 old_l2[VIGIL_MAX_L2]) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  if (data + moved + VIGIL_MAX_L2 > end || data + VIGIL_MAX_L2 > end || moved > 64) {
    return -1;
  }
  __builtin_memcpy(old_l2, data + moved, VIGIL_MAX_L2);
  __builtin_memcpy(data, old_l2, VIGIL_MAX_L2);
  return 0;
}

/* The ethertype in front of L3; `data` has VIGIL_MAX_L2 bytes checked. Constant offsets, which
 * the verifier follows without a range per pointer. */
static __always_inline void set_ethertype(void* data, __u32 l2, __u16 ethertype) {
  const __be16 value = vigil_htons(ethertype);
  if (l2 == ETH_HLEN) {
    *(__be16*)(data + 12) = value;
  } else if (l2 == ETH_HLEN + 4) {
    *(__be16*)(data + 16) = value;
  } else {
    *(__be16*)(data + 20) = value;
  }
}

#endif /* VIGIL_CLASSIFIER_FRAME_H */

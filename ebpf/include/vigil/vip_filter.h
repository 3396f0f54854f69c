/* The VIP destination filter: a bitmap over hashed destination addresses, with a bit set for
 * every VIP address, so that a packet whose destination is no VIP's skips the VIP hash
 * lookup (about 13 ns of a cold call, measured) for one inlined array read. A set bit only
 * says "maybe": the VIP lookup decides. The loader (ebpf/loader/classifier_state.cc) plans the
 * bitmap from the same function, which is why it is plain C shared by both builds. */
#ifndef VIGIL_VIP_FILTER_H
#define VIGIL_VIP_FILTER_H

#include "vigil/compat.h"

#define VIGIL_VIP_FILTER_BITS 65536u
#define VIGIL_VIP_FILTER_WORDS (VIGIL_VIP_FILTER_BITS / 64) /* __u64 entries of the array */

/* `addr` is 16 bytes, an IPv4 address in the first 4 and zeros after (as in struct
 * vigil_packet and struct vigil_vip_key), so both families fold the same way. Fibonacci
 * hashing: the top 16 bits of the product depend on every bit of the folded word. */
static __always_inline __u32 vigil_vip_filter_bit(const __u8* addr) {
  __u32 w[4];
  __builtin_memcpy(w, addr, 16);
  return ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> 16;
}

#endif /* VIGIL_VIP_FILTER_H */

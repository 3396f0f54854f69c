/* Martian addresses: sources and destinations a router does not forward, shared by the XDP
 * classifier and vigil-dp so both call the same packets martian for the same reason.
 *
 * The anchor is what RFC 6890's registries mark not forwardable, RFC 1812 5.3.7 (IPv4) and RFC
 * 4291 (IPv6). Linux agrees on loopback, multicast and broadcast sources, loopback
 * destinations and IPv6 link-local sources; it forwards 0/8 but 0.0.0.0, 240/4 and 169.254/16
 * since the "unicast extensions" changes of Linux 5.x and IPv4-mapped IPv6 addresses, which
 * Vigil refuses unless the interface allows them (interfaces.<name>.allow_martians). The box's
 * own addresses as a source are the caller's to check: they need its tables. */
#ifndef VIGIL_MARTIAN_H
#define VIGIL_MARTIAN_H

#include "vigil/compat.h"

#define VIGIL_MARTIANS(X)                                         \
  X(NONE, "none")                                                 \
  X(SOURCE_THIS_NETWORK, "martian_source_this_network")           \
  X(SOURCE_LOOPBACK, "martian_source_loopback")                   \
  X(SOURCE_MULTICAST, "martian_source_multicast")                 \
  X(SOURCE_BROADCAST, "martian_source_broadcast")                 \
  X(SOURCE_RESERVED, "martian_source_reserved")                   \
  X(SOURCE_LINK_LOCAL, "martian_source_link_local")               \
  X(SOURCE_UNSPECIFIED, "martian_source_unspecified")             \
  X(SOURCE_IPV4_MAPPED, "martian_source_ipv4_mapped")             \
  X(DESTINATION_THIS_NETWORK, "martian_destination_this_network") \
  X(DESTINATION_LOOPBACK, "martian_destination_loopback")         \
  X(DESTINATION_RESERVED, "martian_destination_reserved")         \
  X(DESTINATION_LINK_LOCAL, "martian_destination_link_local")     \
  X(DESTINATION_UNSPECIFIED, "martian_destination_unspecified")   \
  X(DESTINATION_IPV4_MAPPED, "martian_destination_ipv4_mapped")

enum vigil_martian {
#define VIGIL_X(name, text) VIGIL_MARTIAN_##name,
  VIGIL_MARTIANS(VIGIL_X)
#undef VIGIL_X
      VIGIL_MARTIAN_COUNT
};

/* What an interface may accept anyway: ranges some networks use on purpose. */
#define VIGIL_ALLOW_THIS_NETWORK (1u << 0) /* 0.0.0.0/8 but 0.0.0.0 */
#define VIGIL_ALLOW_LOOPBACK (1u << 1)     /* 127.0.0.0/8 (Linux's route_localnet) */
#define VIGIL_ALLOW_RESERVED (1u << 2)     /* 240.0.0.0/4 but 255.255.255.255 */
#define VIGIL_ALLOW_LINK_LOCAL (1u << 3)   /* 169.254.0.0/16 (never fe80::/10) */
#define VIGIL_ALLOW_IPV4_MAPPED (1u << 4)  /* ::ffff:0:0/96 */

/* The IPv4 address's class, by its first octet (and all of it for the two whole addresses). */
static __always_inline int vigil_v4_range(__be32 addr, __u32 allow, int source) {
  const __u8* a = (const __u8*)&addr;
  const __u8 first = a[0];
  if (first == 0) {
    if (!(allow & VIGIL_ALLOW_THIS_NETWORK) || addr == 0) {
      return source ? VIGIL_MARTIAN_SOURCE_THIS_NETWORK : VIGIL_MARTIAN_DESTINATION_THIS_NETWORK;
    }
  } else if (first == 127) {
    if (!(allow & VIGIL_ALLOW_LOOPBACK)) {
      return source ? VIGIL_MARTIAN_SOURCE_LOOPBACK : VIGIL_MARTIAN_DESTINATION_LOOPBACK;
    }
  } else if (first == 169 && a[1] == 254) {
    if (!(allow & VIGIL_ALLOW_LINK_LOCAL)) {
      return source ? VIGIL_MARTIAN_SOURCE_LINK_LOCAL : VIGIL_MARTIAN_DESTINATION_LINK_LOCAL;
    }
  } else if (first >= 240 && addr != 0xffffffffu) {
    if (!(allow & VIGIL_ALLOW_RESERVED)) {
      return source ? VIGIL_MARTIAN_SOURCE_RESERVED : VIGIL_MARTIAN_DESTINATION_RESERVED;
    }
  }
  return VIGIL_MARTIAN_NONE;
}

/* Why a router must not forward an IPv4 packet from `src` to `dst`, or VIGIL_MARTIAN_NONE.
 * Multicast and broadcast destinations are not martians: they are for the box (or no one),
 * never forwarded, and the callers hand them to the kernel. */
static __always_inline int vigil_martian4(__be32 src, __be32 dst, __u32 allow) {
  const __u8 first = ((const __u8*)&src)[0];
  if (src == 0xffffffffu) {
    return VIGIL_MARTIAN_SOURCE_BROADCAST;
  }
  if (first >= 224 && first < 240) {
    return VIGIL_MARTIAN_SOURCE_MULTICAST;
  }
  const int s = vigil_v4_range(src, allow, 1);
  if (s != VIGIL_MARTIAN_NONE) {
    return s;
  }
  return vigil_v4_range(dst, allow, 0);
}

/* 1 when the address's first 96 bits are zero; its last 32 (as stored) in `last`. */
static __always_inline int vigil_v6_low32(const __u8* a, __be32* last) {
  __u64 h;
  __u32 m;
  __builtin_memcpy(&h, a, 8);
  __builtin_memcpy(&m, a + 8, 4);
  __builtin_memcpy(last, a + 12, 4);
  return h == 0 && m == 0;
}

/* ::ffff:0:0/96: the first 80 bits zero, then 16 ones. */
static __always_inline int vigil_v6_ipv4_mapped(const __u8* a) {
  __u64 h;
  __u32 m;
  __builtin_memcpy(&h, a, 8);
  __builtin_memcpy(&m, a + 8, 4);
  return h == 0 && m == vigil_htonl(0x0000ffffu);
}

/* A destination no router forwards as unicast: IPv4 multicast (224/4) or the limited
 * broadcast, IPv6 multicast (ff00::/8). Both the classifier and vigil-dp hand such packets to
 * the kernel, whose multicast routing (or not) decides. */
static __always_inline int vigil_group_destination4(__be32 dst) {
  const __u8 first = ((const __u8*)&dst)[0];
  return (first & 0xf0) == 0xe0 || dst == 0xffffffffu;
}

static __always_inline int vigil_group_destination6(const __u8* dst) {
  return dst[0] == 0xff;
}

/* fe80::/10: on-link only, never routed. */
static __always_inline int vigil_link_local6(const __u8* a) {
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* The IPv6 twin. Multicast destinations are the callers' as above. */
static __always_inline int vigil_martian6(const __u8* src, const __u8* dst, __u32 allow) {
  __be32 last;
  if (src[0] == 0xff) {
    return VIGIL_MARTIAN_SOURCE_MULTICAST;
  }
  if (vigil_link_local6(src)) {
    return VIGIL_MARTIAN_SOURCE_LINK_LOCAL;
  }
  if (vigil_v6_low32(src, &last)) {
    if (last == 0) {
      return VIGIL_MARTIAN_SOURCE_UNSPECIFIED;
    }
    if (last == vigil_htonl(1)) {
      return VIGIL_MARTIAN_SOURCE_LOOPBACK;
    }
  }
  if (!(allow & VIGIL_ALLOW_IPV4_MAPPED) && vigil_v6_ipv4_mapped(src)) {
    return VIGIL_MARTIAN_SOURCE_IPV4_MAPPED;
  }
  if (vigil_link_local6(dst)) {
    return VIGIL_MARTIAN_DESTINATION_LINK_LOCAL;
  }
  if (vigil_v6_low32(dst, &last)) {
    if (last == 0) {
      return VIGIL_MARTIAN_DESTINATION_UNSPECIFIED;
    }
    if (last == vigil_htonl(1)) {
      return VIGIL_MARTIAN_DESTINATION_LOOPBACK;
    }
  }
  if (!(allow & VIGIL_ALLOW_IPV4_MAPPED) && vigil_v6_ipv4_mapped(dst)) {
    return VIGIL_MARTIAN_DESTINATION_IPV4_MAPPED;
  }
  return VIGIL_MARTIAN_NONE;
}

#endif /* VIGIL_MARTIAN_H */

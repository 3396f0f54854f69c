/* The parsed view of a packet and the parse results, shared by the XDP programs, their host
 * build and C++ (loader, tests). Types only: the parsing itself is in vigil/parse.h. */
#ifndef VIGIL_PACKET_H
#define VIGIL_PACKET_H

#include <linux/types.h>

#ifndef VIGIL_MAX_VLANS
#define VIGIL_MAX_VLANS 2
#endif
#ifndef VIGIL_MAX_IPV6_EXT_HEADERS
#define VIGIL_MAX_IPV6_EXT_HEADERS 4
#endif

/* Results, declared once: the enum here, the counter names in the loader. */
#define VIGIL_PARSE_RESULTS(X)                                                 \
  X(OK, "ok")                                                                  \
  X(NOT_IP, "not_ip")                                                          \
  X(TRUNCATED_ETHERNET, "truncated_ethernet")                                  \
  X(TRUNCATED_VLAN, "truncated_vlan")                                          \
  X(TOO_MANY_VLANS, "too_many_vlans")                                          \
  X(TRUNCATED_IPV4, "truncated_ipv4")                                          \
  X(BAD_IPV4_VERSION, "bad_ipv4_version")                                      \
  X(BAD_IPV4_IHL, "bad_ipv4_ihl")                                              \
  X(BAD_IPV4_LENGTH, "bad_ipv4_length")                                        \
  X(TRUNCATED_IPV6, "truncated_ipv6")                                          \
  X(BAD_IPV6_VERSION, "bad_ipv6_version")                                      \
  X(BAD_IPV6_LENGTH, "bad_ipv6_length")                                        \
  X(TRUNCATED_IPV6_EXT, "truncated_ipv6_ext_header")                           \
  X(TOO_MANY_IPV6_EXT, "too_many_ipv6_ext_headers") /* for the box or a VIP */ \
  X(TRUNCATED_L4, "truncated_l4")                                              \
  X(BAD_TCP_OFFSET, "bad_tcp_data_offset")

enum vigil_parse_result {
#define VIGIL_X(name, text) VIGIL_PARSE_##name,
  VIGIL_PARSE_RESULTS(VIGIL_X)
#undef VIGIL_X
      VIGIL_PARSE_RESULT_COUNT
};

struct vigil_packet {
  __u16 l3_proto; /* ETH_P_IP or ETH_P_IPV6, host order */
  __u8 vlan_count;
  __u8 l4_proto; /* IPPROTO_*, after IPv6 extension headers */
  __u16 vlan_ids[VIGIL_MAX_VLANS];
  __u8 is_fragment;    /* any fragment */
  __u8 later_fragment; /* not the first: no L4 header, ports unknown */
  __u8 tcp_flags;
  __u8 tos;           /* IPv4 TOS or IPv6 traffic class: DSCP and ECN */
  __u8 dont_fragment; /* IPv4 DF */
  /* IPv6 extension headers beyond VIGIL_MAX_IPV6_EXT_HEADERS: l4_proto is the next header
   * the walk stopped at, the ports are unknown (zero). Forwardable; not classifiable. */
  __u8 l4_unknown;
  __u8 pad[2];
  __u32 l3_offset;
  __u32 l4_offset;
  __u32 l3_length; /* from the IP header: total length (v4), 40 + payload length (v6) */
  __be32 frag_id;  /* a fragment's identification: IPv4's 16 bits (in the low half as stored)
                      or the IPv6 fragment header's 32; 0 for a whole packet */
  union {
    __be32 v4;
    __u8 v6[16];
  } src, dst;
  __be16 sport; /* or ICMP type/code in network order */
  __be16 dport;
};

#endif /* VIGIL_PACKET_H */

#include "dataplane/packet/icmp_error.h"

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace vigil::dp {
namespace {

constexpr size_t kIpv4ErrorLimit = 576;   // RFC 1812 4.3.2.3: the whole error
constexpr size_t kIpv6ErrorLimit = 1280;  // RFC 4443 2.4(c): the IPv6 minimum MTU
constexpr size_t kIcmpHeader = 8;
constexpr uint8_t kErrorTtl = 64;

bool v4_unicast_host(uint32_t addr_be) {
  const uint8_t first = static_cast<uint8_t>(rte_be_to_cpu_32(addr_be) >> 24);
  return addr_be != 0 && first != 127 && first < 224 && addr_be != UINT32_MAX;
}

bool v6_unicast_host(const uint8_t* a) {
  static constexpr uint8_t kZero[16] = {};
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a[0] != 0xff && std::memcmp(a, kZero, 16) != 0 && std::memcmp(a, kLoopback, 16) != 0;
}

bool is_icmp_error(const vigil_packet& p) {
  const uint8_t type = static_cast<uint8_t>(rte_be_to_cpu_16(p.sport) >> 8);
  if (p.l4_proto == IPPROTO_ICMP) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  }
  return p.l4_proto == IPPROTO_ICMPV6 && type < 128;  // RFC 4443 2.1: errors are 0-127
}

struct TypeCode {
  uint8_t type, code;
};

TypeCode v4_type(IcmpError e) {
  switch (e) {
    case IcmpError::kTimeExceeded:
      return {11, 0};
    case IcmpError::kNetUnreachable:
      return {3, 0};
    case IcmpError::kHostUnreachable:
      return {3, 1};
    case IcmpError::kFragmentationNeeded:
      return {3, 4};
    case IcmpError::kParameterProblem:
      return {12, 0};  // pointer indicates the error
  }
  return {3, 0};
}

TypeCode v6_type(IcmpError e) {
  switch (e) {
    case IcmpError::kTimeExceeded:
      return {3, 0};
    case IcmpError::kNetUnreachable:
      return {1, 0};
    case IcmpError::kHostUnreachable:
      return {1, 3};  // address unreachable
    case IcmpError::kFragmentationNeeded:
      return {2, 0};  // packet too big
    case IcmpError::kParameterProblem:
      return {4, 0};  // erroneous header field
  }
  return {1, 0};
}

}  // namespace

bool icmp_error_allowed(const vigil_packet& p) {
  if (p.later_fragment || is_icmp_error(p)) {
    return false;
  }
  if (p.l3_proto == RTE_ETHER_TYPE_IPV4) {
    return v4_unicast_host(p.src.v4) && v4_unicast_host(p.dst.v4);
  }
  return v6_unicast_host(p.src.v6) && p.dst.v6[0] != 0xff;
}

bool make_icmp_error(rte_mbuf* m, const vigil_packet& p, IcmpError error,
                     const uint8_t* box_address, uint32_t detail) {
  const bool v4 = p.l3_proto == RTE_ETHER_TYPE_IPV4;
  const size_t ip_header = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const size_t limit = (v4 ? kIpv4ErrorLimit : kIpv6ErrorLimit) - ip_header - kIcmpHeader;
  // Quote the IP packet itself, never the Ethernet padding after it.
  const size_t quote = std::min<size_t>({p.l3_length, limit, rte_pktmbuf_data_len(m)});
  if (rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - quote)) != 0) {
    return false;
  }
  auto* head = rte_pktmbuf_prepend(m, static_cast<uint16_t>(ip_header + kIcmpHeader));
  if (head == nullptr) {
    return false;
  }
  auto* icmp = reinterpret_cast<uint8_t*>(head) + ip_header;
  const TypeCode tc = v4 ? v4_type(error) : v6_type(error);
  icmp[0] = tc.type;
  icmp[1] = tc.code;
  icmp[2] = icmp[3] = 0;
  // Bytes 4-7: unused, the next-hop MTU (RFC 1191: low 16 bits; RFC 4443: 32 bits) or the
  // pointer (RFC 792: the first octet; RFC 4443: 32 bits).
  uint32_t rest = 0;
  if (error == IcmpError::kFragmentationNeeded || (error == IcmpError::kParameterProblem && !v4)) {
    rest = rte_cpu_to_be_32(detail);
  } else if (error == IcmpError::kParameterProblem) {
    rest = rte_cpu_to_be_32(detail << 24);
  }
  std::memcpy(icmp + 4, &rest, 4);
  const uint16_t icmp_len = static_cast<uint16_t>(kIcmpHeader + quote);
  if (v4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(head);
    *ip = rte_ipv4_hdr{};
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0xc0;  // internetwork control, as routers mark their ICMP
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_header + icmp_len));
    ip->time_to_live = kErrorTtl;
    ip->next_proto_id = IPPROTO_ICMP;
    std::memcpy(&ip->src_addr, box_address, 4);
    ip->dst_addr = p.src.v4;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
    std::memcpy(icmp + 2, &sum, 2);
  } else {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(head);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(icmp_len);
    ip->proto = IPPROTO_ICMPV6;
    ip->hop_limits = kErrorTtl;
    std::memcpy(ip->src_addr, box_address, 16);
    std::memcpy(ip->dst_addr, p.src.v6, 16);
    uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
    std::memcpy(icmp + 2, &sum, 2);
  }
  return true;
}

}  // namespace vigil::dp

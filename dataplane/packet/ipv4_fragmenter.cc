#include "dataplane/packet/ipv4_fragmenter.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstring>

namespace vigil::dp {

uint16_t fragment_ipv4(rte_mbuf* frame, uint16_t mtu, std::span<rte_mbuf*, kMaxFragments> out) {
  rte_ether_hdr eth;
  std::memcpy(&eth, rte_pktmbuf_mtod(frame, const void*), sizeof(eth));
  rte_pktmbuf_adj(frame, sizeof(eth));
  const auto* ip = rte_pktmbuf_mtod(frame, const rte_ipv4_hdr*);
  const uint16_t header = static_cast<uint16_t>(rte_ipv4_hdr_len(ip));
  if (mtu <= header + 8) {
    rte_pktmbuf_free(frame);
    return 0;
  }
  // Every fragment but the last carries a multiple of 8 bytes of data.
  const auto data_per_fragment = static_cast<uint16_t>((mtu - header) & ~7u);
  // Direct mbufs take the headers, indirect ones point into the frame's data: no copy of the
  // payload. The frame is freed when its last fragment has been sent.
  const int32_t n = rte_ipv4_fragment_packet(frame, out.data(), kMaxFragments,
                                             static_cast<uint16_t>(header + data_per_fragment),
                                             frame->pool, frame->pool);
  rte_pktmbuf_free(frame);
  if (n <= 0) {
    return 0;
  }
  const auto made = static_cast<uint16_t>(n);
  for (uint16_t i = 0; i < made; ++i) {
    rte_mbuf* f = out[i];
    auto* fragment_ip = rte_pktmbuf_mtod(f, rte_ipv4_hdr*);
    fragment_ip->hdr_checksum = 0;
    fragment_ip->hdr_checksum = rte_ipv4_cksum(fragment_ip);
    // The header mbufs are fresh from the pool: their whole headroom is free.
    char* l2 = rte_pktmbuf_prepend(f, sizeof(eth));
    if (l2 == nullptr) [[unlikely]] {
      rte_pktmbuf_free_bulk(out.data(), made);
      return 0;
    }
    std::memcpy(l2, &eth, sizeof(eth));
  }
  return made;
}

}  // namespace vigil::dp

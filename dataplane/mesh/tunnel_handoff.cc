#include "dataplane/mesh/tunnel_handoff.h"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <type_traits>

namespace vigil::dp {

static_assert(std::is_trivially_copyable_v<HandedOff>);
static_assert(sizeof(HandedOff) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

Expected<std::unique_ptr<TunnelHandoff>> TunnelHandoff::create(const std::string& name,
                                                               unsigned size) {
  std::unique_ptr<TunnelHandoff> h(new TunnelHandoff());
  // Multi-producer (every other lcore), single consumer (the owner).
  h->ring_ =
      rte_ring_create_elem(name.c_str(), sizeof(HandedOff), size, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (h->ring_ == nullptr) {
    return fail("cannot make the mesh handoff ring " + name + ": " + rte_strerror(rte_errno));
  }
  return h;
}

TunnelHandoff::~TunnelHandoff() {
  HandedOff h;
  while (ring_ != nullptr && take(&h, 1) == 1) {
    rte_pktmbuf_free(h.packet);
  }
  rte_ring_free(ring_);
}

bool TunnelHandoff::put(const HandedOff& h) {
  HandedOff copy = h;  // the ring API takes a non-const pointer
  return rte_ring_mp_enqueue_elem(ring_, &copy, sizeof copy) == 0;
}

unsigned TunnelHandoff::take(HandedOff* out, unsigned max) {
  return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(HandedOff), max, nullptr);
}

}  // namespace vigil::dp

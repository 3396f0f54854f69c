#include "dataplane/mesh/mesh_channel.h"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <type_traits>

namespace vigil::dp {
namespace {

static_assert(std::is_trivially_copyable_v<MeshCommand>);
static_assert(std::is_trivially_copyable_v<MeshEvent>);
static_assert(sizeof(MeshCommand) % 4 == 0 && sizeof(MeshEvent) % 4 == 0,
              "rte_ring elements are multiples of 4 bytes");

}  // namespace

TunnelEndpoint TunnelEndpoint::from(const net::HostPort& hp) {
  TunnelEndpoint e;
  e.family = static_cast<uint8_t>(hp.address.family);
  std::copy_n(hp.address.bytes.begin(), hp.address.family == 4 ? 4 : 16, e.address);
  e.port = hp.port;
  return e;
}

net::HostPort TunnelEndpoint::host_port() const {
  net::HostPort hp;
  hp.address.family = family;
  std::copy_n(address, family == 4 ? 4 : 16, hp.address.bytes.begin());
  hp.port = port;
  return hp;
}

Expected<std::unique_ptr<MeshChannel>> MeshChannel::create(const std::string& name, unsigned size) {
  std::unique_ptr<MeshChannel> c(new MeshChannel());
  c->commands_ = rte_ring_create_elem((name + "_cmd").c_str(), sizeof(MeshCommand), size,
                                      SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  c->events_ = rte_ring_create_elem((name + "_evt").c_str(), sizeof(MeshEvent), size, SOCKET_ID_ANY,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (c->commands_ == nullptr || c->events_ == nullptr) {
    return fail("cannot make the mesh rings " + name + ": " + rte_strerror(rte_errno));
  }
  return c;
}

MeshChannel::~MeshChannel() {
  // What is still queued holds mbufs and sessions: freed with the rings.
  MeshCommand c;
  while (commands_ != nullptr && next_command(c)) {
    rte_pktmbuf_free(c.packet);
    delete c.session;
  }
  MeshEvent e;
  while (events_ != nullptr && next_event(e)) {
    rte_pktmbuf_free(e.packet);
    delete e.session;
  }
  rte_ring_free(commands_);
  rte_ring_free(events_);
}

bool MeshChannel::command(const MeshCommand& c) {
  MeshCommand copy = c;  // the ring API takes a non-const pointer
  return rte_ring_enqueue_elem(commands_, &copy, sizeof copy) == 0;
}

bool MeshChannel::next_command(MeshCommand& c) {
  return rte_ring_dequeue_elem(commands_, &c, sizeof c) == 0;
}

bool MeshChannel::event(const MeshEvent& e) {
  MeshEvent copy = e;
  return rte_ring_enqueue_elem(events_, &copy, sizeof copy) == 0;
}

bool MeshChannel::next_event(MeshEvent& e) {
  return rte_ring_dequeue_elem(events_, &e, sizeof e) == 0;
}

unsigned MeshChannel::event_room() const {
  return rte_ring_free_count(events_);
}

}  // namespace vigil::dp

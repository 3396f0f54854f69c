// Which neighbour: an address on a port. The key of the neighbour table and of adjacencies.
#pragma once

#include <compare>
#include <cstdint>

#include "common/net/ip.h"
#include "dataplane/forwarding/next_hop_group.h"

namespace vigil::dp {

// 32 bytes, so rte_hash compares keys with its vector 32-byte compare instead of memcmp.
struct NeighbourKey {
  uint8_t address[16] = {};  // IPv4 in the first 4 bytes, the rest zero
  PortId port = 0;
  uint8_t family = 4;
  uint8_t pad[13] = {};  // hashed with the rest: must stay zero
  auto operator<=>(const NeighbourKey&) const = default;

  static NeighbourKey v4(PortId port, uint32_t address_be);
  static NeighbourKey v6(PortId port, const uint8_t* address);
  static NeighbourKey from(PortId port, const net::IpAddress& address);
  net::IpAddress ip() const;
};
static_assert(sizeof(NeighbourKey) == 32);

}  // namespace vigil::dp

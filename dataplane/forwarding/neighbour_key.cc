#include "dataplane/forwarding/neighbour_key.h"

#include <cstring>

namespace vigil::dp {

NeighbourKey NeighbourKey::v4(PortId port, uint32_t address_be) {
  NeighbourKey k{.port = port, .family = 4};
  std::memcpy(k.address, &address_be, 4);
  return k;
}

NeighbourKey NeighbourKey::v6(PortId port, const uint8_t* address) {
  NeighbourKey k{.port = port, .family = 6};
  std::memcpy(k.address, address, 16);
  return k;
}

NeighbourKey NeighbourKey::from(PortId port, const net::IpAddress& address) {
  NeighbourKey k{.port = port, .family = static_cast<uint8_t>(address.family)};
  std::memcpy(k.address, address.bytes.data(), address.family == 4 ? 4 : 16);
  return k;
}

net::IpAddress NeighbourKey::ip() const {
  net::IpAddress a{.family = family};
  std::memcpy(a.bytes.data(), address, family == 4 ? 4 : 16);
  return a;
}

}  // namespace vigil::dp

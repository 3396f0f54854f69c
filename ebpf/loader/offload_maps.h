// The classifier's side of flow offload (struct vigil_offload in classifier_types.h): what
// vigil-dp writes into one port's maps to have the classifier forward a flow by itself, and
// what it reads back. Over MapAccess, so it runs against the in-memory maps in unit tests.
#pragma once

#include <cstdint>

#include "ebpf/loader/counters.h"
#include "ebpf/loader/map_access.h"
#include "vigil/classifier_types.h"

namespace vigil::ebpf {

// The generation entries must carry to be used; 0 when nothing was ever offloaded.
uint32_t offload_generation(MapAccess& maps);
// Retires every entry written under another generation; 0 stops offloading altogether.
Status set_offload_generation(MapAccess& maps, uint32_t generation);

// Devices offloaded flows may leave by (the DEVMAP_HASH the program redirects through).
Status add_offload_target(MapAccess& maps, uint32_t ifindex);
Status remove_offload_target(MapAccess& maps, uint32_t ifindex);

// Installs or replaces one flow (the least recently used goes when the table is full).
Status offload_flow(MapAccess& maps, const vigil_offload_key& key, const vigil_offload& flow);

// Removes one flow; one the classifier already evicted is no error.
Status forget_flow(MapAccess& maps, const vigil_offload_key& key);

// What offloaded flows brought in on the port these maps belong to.
Count offloaded_rx(MapAccess& maps);
// What offloaded flows sent out of vigil-dp's port `port` (< VIGIL_MAX_OFFLOAD_PORTS).
Count offloaded_tx(MapAccess& maps, uint32_t port);

}  // namespace vigil::ebpf

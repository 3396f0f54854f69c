#include "ebpf/loader/offload_maps.h"

#include <cstring>

namespace vigil::ebpf {
namespace {

constexpr uint32_t kStateIndex = 0;

}  // namespace

uint32_t offload_generation(MapAccess& maps) {
  const Bytes v = maps.lookup(MapId::kOffloadState, bytes_of(kStateIndex));
  vigil_offload_state state{};
  if (v.size() >= sizeof(state)) {
    std::memcpy(&state, v.data(), sizeof(state));
  }
  return state.generation;
}

Status set_offload_generation(MapAccess& maps, uint32_t generation) {
  const vigil_offload_state state{.generation = generation};
  return maps.update(MapId::kOffloadState, bytes_of(kStateIndex), bytes_of(state));
}

Status add_offload_target(MapAccess& maps, uint32_t ifindex) {
  return maps.update(MapId::kOffloadPorts, bytes_of(ifindex), bytes_of(ifindex));
}

Status remove_offload_target(MapAccess& maps, uint32_t ifindex) {
  return maps.remove(MapId::kOffloadPorts, bytes_of(ifindex));
}

Status offload_flow(MapAccess& maps, const vigil_offload_key& key, const vigil_offload& flow) {
  return maps.update(MapId::kOffloadedFlows, bytes_of(key), bytes_of(flow));
}

Status forget_flow(MapAccess& maps, const vigil_offload_key& key) {
  return maps.remove(MapId::kOffloadedFlows, bytes_of(key));
}

Count offloaded_rx(MapAccess& maps) {
  return verdict_count(maps, VIGIL_VERDICT_REDIRECT_OFFLOADED);
}

Count offloaded_tx(MapAccess& maps, uint32_t port) {
  if (port >= VIGIL_MAX_OFFLOAD_PORTS) {
    return {};
  }
  return counter_at(maps, MapId::kOffloadTx, port);
}

}  // namespace vigil::ebpf

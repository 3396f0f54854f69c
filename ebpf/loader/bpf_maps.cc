#include "ebpf/loader/bpf_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vigil::ebpf {
namespace {

std::string errno_text(int err) {
  return std::strerror(err < 0 ? -err : err);
}

bool is_per_cpu(bpf_map_type type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

}  // namespace

Expected<BpfMaps> BpfMaps::from_object(bpf_object* object) {
  BpfMaps out;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return fail("cannot count possible CPUs: " + errno_text(cpus));
  }
  out.cpus_ = cpus;
  for (int i = 0; i < kMapCount; ++i) {
    const char* name = map_name(static_cast<MapId>(i));
    bpf_map* map = bpf_object__find_map_by_name(object, name);
    if (map == nullptr || bpf_map__fd(map) < 0) {
      return fail(std::string("classifier object has no loaded map ") + name);
    }
    Map& m = out.maps_[i];
    m.fd = bpf_map__fd(map);
    m.key_size = bpf_map__key_size(map);
    m.per_cpu = is_per_cpu(bpf_map__type(map));
    // The kernel lays per-CPU values out 8-byte aligned, one after the other.
    const uint32_t value = bpf_map__value_size(map);
    m.value_size = m.per_cpu ? ((value + 7) / 8 * 8) * static_cast<uint32_t>(cpus) : value;
  }
  return out;
}

Status BpfMaps::update(MapId map, std::span<const uint8_t> key, std::span<const uint8_t> value) {
  const Map& m = maps_[static_cast<int>(map)];
  if (key.size() != m.key_size || value.size() != m.value_size) {
    return fail("key or value of the wrong size (" + std::to_string(key.size()) + "/" +
                std::to_string(value.size()) + " bytes, the map takes " +
                std::to_string(m.key_size) + "/" + std::to_string(m.value_size) + ")");
  }
  if (bpf_map_update_elem(m.fd, key.data(), value.data(), BPF_ANY) != 0) {
    return fail(errno_text(errno));
  }
  return Ok{};
}

Status BpfMaps::fill_array(MapId map, uint32_t first, std::span<const uint32_t> values) {
  const Map& m = maps_[static_cast<int>(map)];
  if (m.key_size != 4 || m.value_size != 8 || first % 2 != 0) {
    return fail("not an array of u32 pairs, or an odd start");
  }
  // Pairs; an odd count leaves the stride's padding entry zero.
  const uint32_t pairs = static_cast<uint32_t>((values.size() + 1) / 2);
  std::vector<uint32_t> keys(pairs);
  std::vector<uint32_t> packed(pairs * 2, 0);
  for (uint32_t i = 0; i < pairs; ++i) {
    keys[i] = first / 2 + i;
  }
  std::copy(values.begin(), values.end(), packed.begin());
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t count = pairs;
  if (bpf_map_update_batch(m.fd, keys.data(), packed.data(), &count, &opts) == 0 &&
      count == pairs) {
    return Ok{};
  }
  // Kernels without batch operations on arrays: one pair at a time.
  for (uint32_t i = 0; i < pairs; ++i) {
    if (bpf_map_update_elem(m.fd, &keys[i], &packed[i * 2], BPF_ANY) != 0) {
      return fail("entry " + std::to_string(keys[i]) + ": " + errno_text(errno));
    }
  }
  return Ok{};
}

Status BpfMaps::remove(MapId map, std::span<const uint8_t> key) {
  const Map& m = maps_[static_cast<int>(map)];
  if (key.size() != m.key_size) {
    return fail("key of the wrong size");
  }
  if (bpf_map_delete_elem(m.fd, key.data()) != 0 && errno != ENOENT) {
    return fail(errno_text(errno));
  }
  return Ok{};
}

Bytes BpfMaps::lookup(MapId map, std::span<const uint8_t> key) {
  const Map& m = maps_[static_cast<int>(map)];
  Bytes value(m.value_size);
  if (key.size() != m.key_size || bpf_map_lookup_elem(m.fd, key.data(), value.data()) != 0) {
    return {};
  }
  return value;
}

std::vector<std::pair<Bytes, Bytes>> BpfMaps::dump(MapId map) {
  const Map& m = maps_[static_cast<int>(map)];
  std::vector<std::pair<Bytes, Bytes>> out;
  Bytes key(m.key_size);
  Bytes next(m.key_size);
  const void* previous = nullptr;
  while (bpf_map_get_next_key(m.fd, previous, next.data()) == 0) {
    Bytes value(m.value_size);
    if (bpf_map_lookup_elem(m.fd, next.data(), value.data()) == 0) {
      out.emplace_back(next, std::move(value));
    }
    key = next;
    previous = key.data();
  }
  return out;
}

}  // namespace vigil::ebpf

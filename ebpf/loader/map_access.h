// The kernel boundary of the classifier loader: the maps by name and the few operations the
// loader needs on them. The libbpf implementation is in bpf_maps.cc; unit tests use an
// in-memory one, so planning, diffing and counter math run without root.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace vigil::ebpf {

// Every map of classifier.bpf.c, by the name it has there.
#define VIGIL_CLASSIFIER_MAPS(X)        \
  X(kSettings, "settings")              \
  X(kStats, "stats")                    \
  X(kCounterBases, "counter_bases")     \
  X(kAclSrc4, "acl_src4")               \
  X(kAclDst4, "acl_dst4")               \
  X(kAclSrc6, "acl_src6")               \
  X(kAclDst6, "acl_dst6")               \
  X(kAclActions, "acl_actions")         \
  X(kAclStats, "acl_stats")             \
  X(kRateSrc4, "rate_src4")             \
  X(kRateSrc6, "rate_src6")             \
  X(kSynDst4, "syn_dst4")               \
  X(kSynDst6, "syn_dst6")               \
  X(kPolicers, "policers")              \
  X(kBuckets, "buckets")                \
  X(kPolicerStats, "policer_stats")     \
  X(kVips, "vips")                      \
  X(kVipFilter, "vip_filter")           \
  X(kMaglev, "maglev")                  \
  X(kBackends, "backends")              \
  X(kConns, "conns")                    \
  X(kThisPort, "this_port")             \
  X(kVipFragments, "vip_fragments")     \
  X(kIcmpSources, "icmp_sources")       \
  X(kIcmpBudget, "icmp_budget")         \
  X(kLocalAddresses, "local_addresses") \
  X(kLocalPorts, "local_ports")         \
  X(kXsks, "xsks_map")                  \
  X(kOffloadedFlows, "offloaded_flows") \
  X(kOffloadState, "offload_state")     \
  X(kOffloadPorts, "offload_ports")     \
  X(kOffloadTx, "offload_tx")

enum class MapId {
#define VIGIL_X(id, name) id,
  VIGIL_CLASSIFIER_MAPS(VIGIL_X)
#undef VIGIL_X
      kCount
};

constexpr int kMapCount = static_cast<int>(MapId::kCount);

constexpr const char* map_name(MapId id) {
  constexpr const char* kNames[] = {
#define VIGIL_X(id, name) name,
      VIGIL_CLASSIFIER_MAPS(VIGIL_X)
#undef VIGIL_X
  };
  return kNames[static_cast<int>(id)];
}

using Bytes = std::vector<uint8_t>;

template <typename T>
Bytes bytes_of(const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  return Bytes(p, p + sizeof(T));
}

class MapAccess {
 public:
  virtual ~MapAccess() = default;

  // Creates or replaces one entry. For a per-CPU map, `value` is every CPU's value in turn.
  virtual Status update(MapId map, std::span<const uint8_t> key,
                        std::span<const uint8_t> value) = 0;
  // Writes consecutive u32 entries of the Maglev array from an even position `first`, in as
  // few calls as the kernel allows (the kernel map stores them in pairs).
  virtual Status fill_array(MapId map, uint32_t first, std::span<const uint32_t> values) = 0;
  virtual Status remove(MapId map, std::span<const uint8_t> key) = 0;
  // The value (per-CPU maps: every CPU's, concatenated); empty when the key is absent.
  virtual Bytes lookup(MapId map, std::span<const uint8_t> key) = 0;
  // Every entry, for re-adopting pinned maps after a restart.
  virtual std::vector<std::pair<Bytes, Bytes>> dump(MapId map) = 0;
  // How many values a per-CPU map holds per key.
  virtual int cpus() const = 0;
};

}  // namespace vigil::ebpf

// routing.bgp: BGP through the FRR sidecar, parsed by routing_section.cc. What FRR would take
// but mean something else by is refused here, with the field and line: a policy named but not
// defined (FRR would deny everything), timers FRR would quietly change, a neighbour twice.
#pragma once

#include <optional>
#include <string>

#include "config/sections.h"

namespace vigil::config {

extern const Schema kBgpSchema;

// Limits: what one box's BGP needs, with room, and no more (every count bounded).
inline constexpr size_t kMaxBgpNeighbors = 64;
inline constexpr size_t kMaxBgpNetworks = 1024;
inline constexpr size_t kMaxBgpLists = 256;       // prefix, AS-path and community lists each
inline constexpr size_t kMaxBgpListRules = 1024;  // per list
inline constexpr size_t kMaxBgpPolicies = 256;
inline constexpr size_t kMaxBgpPolicyRules = 256;  // per policy
inline constexpr size_t kMaxBgpSetCommunities = 16;
inline constexpr size_t kMaxBgpPatternLength = 256;

// Interfaces it names (a neighbour's update_source) must be in `config` already.
std::optional<BgpConfig> parse_bgp(const YAML::Node& node, const std::string& path,
                                   const Config& config, ErrorList& errors);

}  // namespace vigil::config

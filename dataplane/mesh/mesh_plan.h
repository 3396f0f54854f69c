// The mesh as vigil-dp runs it: the config's mesh section turned into the control thread's
// input in one place (the adapter), its keys read from their files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "config/config.h"
#include "dataplane/mesh/wan_links.h"
#include "sdwan/wireguard/crypto.h"

namespace vigil::dp {

struct MeshPeerPlan {
  std::string name;
  wg::Key public_key{};
  wg::Key preshared_key{};                     // zeros: none
  std::optional<wg::Key> previous_public_key;  // taken too until previous_key_until
  int64_t previous_key_until = 0;              // unix seconds
  std::vector<config::Endpoint> endpoints;     // in order of preference
  std::vector<net::Prefix> allowed_ips;
  uint32_t persistent_keepalive = 0;  // seconds; 0 off
  uint32_t probe_interval_ms = 10;    // path probes; 0 off
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const MeshPeerPlan&) const = default;
};

struct MeshPlan {
  wg::Key private_key{};
  std::optional<wg::Key> previous_private_key;  // answered too until previous_key_until
  int64_t previous_key_until = 0;               // unix seconds
  uint16_t listen_port = 51820;
  uint32_t cookie_threshold = 1000;
  uint32_t resolve_interval = 60;
  std::vector<MeshPeerPlan> peers;
  std::vector<WanLink> links;       // the paths' links (filled by the fast path: wan_links_for)
  config::PoliciesConfig policies;  // application classes: which path each takes
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const MeshPlan&) const = default;
};

// Nothing when there is no mesh section; the keys' errors name their files. A previous key
// whose grace is over at `now` (unix seconds) is left out.
Expected<std::optional<MeshPlan>> mesh_plan_for(const config::Config& config, int64_t now);

}  // namespace vigil::dp

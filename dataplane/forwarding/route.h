// A route as the fast path installs it: a network, what it points to, and where it came from.
#pragma once

#include <optional>
#include <string_view>

#include "dataplane/forwarding/next_hop_group.h"

namespace vigil::dp {

// Where a route came from, for the choice between sources (route_selection.h) and for
// `vigil show routes`.
enum class RouteSource : uint8_t { kConnected, kLocal, kStatic, kMesh, kBgp };

inline std::string_view source_name(RouteSource s) {
  switch (s) {
    case RouteSource::kConnected:
      return "connected";
    case RouteSource::kLocal:
      return "local";
    case RouteSource::kStatic:
      return "static";
    case RouteSource::kMesh:
      return "mesh";
    case RouteSource::kBgp:
      return "bgp";
  }
  return "";
}

// Administrative distances of the sources the config gives none: connected and local 0,
// static as configured (1 unless said), the mesh 10 (a mesh route is made only where the
// config has none for the prefix), BGP 20 (zebra sends no distance over FPM: eBGP's default,
// iBGP's 200 cannot be told apart).
inline constexpr uint32_t kMeshDistance = 10;
inline constexpr uint32_t kBgpDistance = 20;

struct Route {
  net::Prefix prefix;  // a network: host bits zero
  NextHopGroup target;
  RouteSource source = RouteSource::kStatic;
  uint32_t distance = 0;  // administrative distance: the lower wins between sources
  auto operator<=>(const Route& other) const { return prefix <=> other.prefix; }
  bool operator==(const Route& other) const { return prefix == other.prefix; }
};

// One prefix's change for RouteTable::update: its new target, or none (withdrawn).
struct RouteUpdate {
  net::Prefix prefix;
  std::optional<NextHopGroup> target;
};

}  // namespace vigil::dp

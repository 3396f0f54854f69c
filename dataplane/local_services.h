// The box's own services, which traffic to the box always reaches whatever
// filter.default_action says: SSH, BGP, SNMP, the Prometheus listener and vigil-l7's
// listeners. One list for both adapters that hold traffic to the box to `filter`: the XDP
// classifier's (classifier_config_builder.h) and the fast path's, for what the mesh brings
// (fast_path_plan.h, forwarding/local_policy.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "config/config.h"

namespace vigil::dp {

inline constexpr uint16_t kSshPort = 22;
inline constexpr uint16_t kBgpPort = 179;
inline constexpr uint16_t kSnmpPort = 161;

struct ServicePort {
  uint8_t protocol = 6;  // IPPROTO_TCP or IPPROTO_UDP
  uint16_t port = 0;
};

inline std::vector<ServicePort> service_ports_of(const config::Config& c) {
  std::vector<ServicePort> out = {{.protocol = 6, .port = kSshPort},
                                  {.protocol = 6, .port = kBgpPort},
                                  {.protocol = 17, .port = kSnmpPort}};
  if (c.monitoring.prometheus_enabled) {
    out.push_back({.protocol = 6, .port = c.monitoring.prometheus_listen.port});
  }
  // vigil-l7's listeners: HTTP for this box goes to the kernel and on to the proxy.
  for (const auto& l : c.l7.listeners) {
    const bool listed = std::any_of(out.begin(), out.end(), [&](const ServicePort& p) {
      return p.protocol == 6 && p.port == l.address.port;
    });
    if (!listed) {
      out.push_back({.protocol = 6, .port = l.address.port});
    }
  }
  return out;
}

}  // namespace vigil::dp

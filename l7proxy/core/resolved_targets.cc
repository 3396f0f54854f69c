#include "l7proxy/core/resolved_targets.h"

#include <algorithm>

namespace vigil::l7 {
namespace {
constexpr size_t kMaxResolvedTargets = 256;  // per upstream, as l7.upstreams.<name>.targets
}  // namespace

std::set<std::string> target_names(const ProxyConfig& config) {
  std::set<std::string> out;
  for (const UpstreamSpec& u : config.upstreams) {
    for (const NamedTarget& n : u.named) {
      out.insert(n.host);
    }
  }
  return out;
}

std::shared_ptr<const ProxyConfig> with_resolved_targets(
    const std::shared_ptr<const ProxyConfig>& base, const TargetResolver::Snapshot& names) {
  const bool named = std::any_of(base->upstreams.begin(), base->upstreams.end(),
                                 [](const UpstreamSpec& u) { return !u.named.empty(); });
  if (!named) {
    return base;
  }
  auto out = std::make_shared<ProxyConfig>(*base);
  for (UpstreamSpec& u : out->upstreams) {
    for (const NamedTarget& n : u.named) {
      const auto found = names.names.find(n.host);
      if (found == names.names.end()) {
        continue;
      }
      for (const net::IpAddress& address : found->second.addresses) {
        if (u.targets.size() >= kMaxResolvedTargets) {
          break;  // as many as the config allows by address; a name cannot make more
        }
        TargetSpec t;
        const net::HostPort host_port{.address = address, .port = n.port};
        t.key = host_port.to_string();
        if (std::any_of(u.targets.begin(), u.targets.end(),
                        [&](const TargetSpec& other) { return other.key == t.key; })) {
          continue;
        }
        t.name = n.host;
        t.weight = n.weight;
        t.address_length = host_port.to_sockaddr(t.address);
        u.targets.push_back(std::move(t));
      }
    }
  }
  return out;
}

}  // namespace vigil::l7

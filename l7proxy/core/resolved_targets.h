// A config's upstreams with their DNS-named targets expanded into the addresses the resolver
// has for them: what the workers pick from. Each address of a name is a target of its own
// (keyed by the address, so its warm connections, ejection and health survive a new answer
// that still has it), with the name's weight and the name kept for `show`; an address given
// twice (by two names, or a name and an address) is one target. A name with no addresses
// yet adds none.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "l7proxy/core/proxy_config.h"
#include "l7proxy/core/target_resolver.h"

namespace vigil::l7 {

// Every DNS name `config`'s upstreams give targets by.
std::set<std::string> target_names(const ProxyConfig& config);

// `base` itself when it names no target by DNS; else a copy with the names' addresses.
std::shared_ptr<const ProxyConfig> with_resolved_targets(
    const std::shared_ptr<const ProxyConfig>& base, const TargetResolver::Snapshot& names);

}  // namespace vigil::l7

// The one place vigil-l7 reads the config's types: the l7 section turned into ProxyConfig.
#pragma once

#include <memory>

#include "common/expected.h"
#include "config/config.h"
#include "l7proxy/core/proxy_config.h"

namespace vigil::l7 {

// `default_workers`: what workers: 0 means here (the cores the fast path leaves).
Expected<std::shared_ptr<const ProxyConfig>> build_proxy_config(const config::Config& config,
                                                                uint32_t default_workers);

// One worker per core the fast path does not poll (at least one).
uint32_t default_worker_count(const config::Config& config, uint32_t online_cores);

}  // namespace vigil::l7

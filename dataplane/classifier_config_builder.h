// The XDP classifier's view of the appliance config: filter and l4 as configured, plus the
// box's own addresses (interfaces, VLANs, management) and service ports, which pass to the
// kernel whatever the default policy.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "dataplane/local_services.h"
#include "ebpf/loader/classifier_config.h"

namespace vigil::dp {

ebpf::ClassifierConfig classifier_config_from(const config::Config& config);

// Kernel devices of the interfaces with xdp: true, in config order.
std::vector<std::string> xdp_devices(const config::Config& config);

// `common` (classifier_config_from) for the classifier on `device`: that interface's VLANs and
// allowed martians, and `mac`, the device's MAC as the kernel has it (nullopt: unknown).
ebpf::ClassifierConfig classifier_config_for(const ebpf::ClassifierConfig& common,
                                             const config::Config& config,
                                             const std::string& device,
                                             std::optional<std::array<uint8_t, 6>> mac);

}  // namespace vigil::dp

// vigil-dp starting again as a new process on a committed config, for what it cannot apply
// in place (DPDK's EAL starts once per process: the dataplane section, the ports' devices).
// The process re-executes itself (same pid, so a supervisor sees no exit) with its own
// command line, FILE (its sections of the commit) as `--config` and `--restart-config`: the new
// image starts from what was committed, not from a file that may have changed since, and
// applies it at start, as vigild would have pushed it. While it starts, the
// classifier's pinned program sends transit to the kernel fallback, as after a crash.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"

namespace vigil::dp {

inline constexpr const char* kRestartConfigOption = "--restart-config";

// `argv` with `--config file --restart-config file` in place of any it had.
std::vector<std::string> restart_argv(const std::vector<std::string>& argv,
                                      const std::string& file);

// Writes `sections` to `file`: mode 0600 (later sections carry keys), atomically (a new file
// renamed over the old), fsynced.
Status write_restart_config(const std::string& file, const nlohmann::json& sections);

// The sections `file` holds, for the new image to apply.
Expected<nlohmann::json> read_restart_config(const std::string& file);

// Replaces this process by /proc/self/exe run with `argv`, every descriptor but 0-2 closed.
// Returns only when exec failed: why. (A fast path is left as a crash leaves it: AF_XDP
// sockets and vfio devices are released with the descriptors.)
std::string exec_self(const std::vector<std::string>& argv);

}  // namespace vigil::dp

// The mesh's keys as a part of vigil-dp's config: read and checked at prepare, so a missing,
// unreadable or exposed key file fails the commit by name, whether or not the fast path runs.
// The tunnels are the fast path's (FastPathControl runs them: dataplane/mesh/).
#pragma once

#include "dataplane/config_applier.h"
#include "dataplane/mesh/mesh_keys.h"

namespace vigil::dp {

class MeshTarget final : public ConfigTarget {
 public:
  std::string name() const override { return "mesh"; }
  Status check(const config::Config& config) const override;
  Status apply(const config::Config& config) override;
};

}  // namespace vigil::dp

#include "dataplane/mesh/mesh_target.h"

#include "common/utc_time.h"

namespace vigil::dp {

Status MeshTarget::check(const config::Config& config) const {
  if (!config.mesh.enabled) {
    return Ok{};
  }
  if (auto keys = load_mesh_keys(config.mesh, unix_now()); !keys) {
    return fail(keys.error());
  }
  return Ok{};
}

Status MeshTarget::apply(const config::Config& config) {
  // Read again: a key file may have changed between prepare and activate. Nothing is kept:
  // the fast path's mesh reads the keys it runs on (mesh_plan.h).
  return check(config);
}

}  // namespace vigil::dp

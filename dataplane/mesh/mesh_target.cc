#include "dataplane/mesh/mesh_target.h"

namespace vigil::dp {

Status MeshTarget::check(const config::Config& config) const {
  if (!config.mesh.enabled) {
    return Ok{};
  }
  auto keys = load_mesh_keys(config.mesh);
  if (!keys) {
    return fail(keys.error());
  }
  return Ok{};
}

Status MeshTarget::apply(const config::Config& config) {
  if (Status s = check(config); !s) {
    return s;
  }
  if (!config.mesh.enabled) {
    keys_.reset();
    listen_port_ = 0;
    return Ok{};
  }
  auto keys = load_mesh_keys(config.mesh);
  if (!keys) {
    return fail(keys.error());  // changed between prepare and activate
  }
  keys_ = std::move(*keys);
  listen_port_ = config.mesh.listen_port;
  return Ok{};
}

std::optional<wg::Key> MeshTarget::public_key() const {
  if (!keys_) {
    return std::nullopt;
  }
  return keys_->public_key;
}

}  // namespace vigil::dp

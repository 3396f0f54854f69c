#include "dataplane/mesh/mesh_plan.h"

#include "dataplane/mesh/mesh_keys.h"

namespace vigil::dp {

Expected<std::optional<MeshPlan>> mesh_plan_for(const config::Config& config, int64_t now) {
  const config::MeshConfig& mesh = config.mesh;
  if (!mesh.enabled) {
    return std::optional<MeshPlan>();
  }
  auto keys = load_mesh_keys(mesh, now);
  if (!keys) {
    return fail(keys.error());
  }
  MeshPlan plan{.private_key = keys->private_key,
                .previous_private_key = keys->previous_private_key,
                .previous_key_until = keys->previous_private_key ? mesh.previous_key_until : 0,
                .listen_port = mesh.listen_port,
                .cookie_threshold = mesh.cookie_threshold,
                .resolve_interval = mesh.resolve_interval};
  plan.policies = config.policies;
  for (const config::MeshPeerConfig& p : mesh.peers) {
    MeshPeerPlan peer{
        .name = p.name,
        .public_key = p.public_key,
        .previous_public_key = now < p.previous_key_until ? p.previous_public_key : std::nullopt,
        .previous_key_until = now < p.previous_key_until ? p.previous_key_until : 0,
        .endpoints = p.endpoints,
        .allowed_ips = p.allowed_ips,
        .persistent_keepalive = p.persistent_keepalive,
        .probe_interval_ms = p.probe_interval_ms};
    if (auto psk = keys->preshared.find(p.name); psk != keys->preshared.end()) {
      peer.preshared_key = psk->second;
    }
    plan.peers.push_back(std::move(peer));
  }
  return std::optional<MeshPlan>(std::move(plan));
}

}  // namespace vigil::dp

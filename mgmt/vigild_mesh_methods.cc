// vigild's mesh methods: making this site's WireGuard key. vigild writes it (as root, mode
// 0600) where mesh.private_key_file of the running config says, or at the default path before
// there is a mesh section; the answer and the audit log carry the public key only.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/key_base64.h"
#include "mgmt/mesh/wireguard_key.h"
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

namespace {

// The key's directory, made 0700 when it is missing (one level: a path whose parents are
// missing is a mistake to report, not to build).
Status ensure_directory(const std::string& file) {
  const size_t slash = file.rfind('/');
  const std::string dir = slash == 0 ? "/" : file.substr(0, slash);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail("cannot make " + dir + ": " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace

void VigildService::register_mesh_methods() {
  add("mesh.keygen", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    if (!p.is_object() || (p.contains("force") && !p["force"].is_boolean())) {
      return rpc::invalid_params("params: {\"force\": boolean} at most");
    }
    const bool force = p.value("force", false);
    const std::string file = running_.mesh.private_key_file;
    if (Status dir = ensure_directory(file); !dir) {
      return rpc::Error{rpc::kInternalError, dir.error()};
    }
    struct stat st {};
    const bool existed = ::lstat(file.c_str(), &st) == 0;
    if (existed && !force) {
      return rpc::invalid_params(
          file +
          " exists already and is this site's key: `vigil mesh keygen force` replaces "
          "it, and every peer must then be given the new public key");
    }
    auto made = mesh::write_new_wireguard_key(file, force);
    if (!made) {
      return rpc::Error{rpc::kInternalError, made.error()};
    }
    const std::string public_key = key_to_base64(*made);
    audit_.record(
        "mesh-keygen",
        {{"user", c.user}, {"file", file}, {"public_key", public_key}, {"replaced", existed}});
    return json{{"file", file}, {"public_key", public_key}, {"replaced", existed}};
  });

  // Membership (mgmt/mesh/enrolment.h): tokens, join, revoke, leave.
  add_deferred("mesh.token.create", Role::kAdmin,
               [this](const json& p, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->create_token(p, c, reply);
               });
  add_deferred("mesh.token.list", Role::kOperator,
               [this](const json&, const Caller&, const rpc::Reply& reply) {
                 enrolment_->list_tokens(reply);
               });
  add_deferred("mesh.token.delete", Role::kAdmin,
               [this](const json& p, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->delete_token(p, c, reply);
               });
  add_deferred("mesh.join", Role::kAdmin,
               [this](const json& p, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->join(p, c, reply);
               });
  add_deferred("mesh.revoke", Role::kAdmin,
               [this](const json& p, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->revoke(p, c, reply);
               });
  add_deferred("mesh.rotate_key", Role::kAdmin,
               [this](const json& p, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->rotate_key(p, c, reply);
               });
  add_deferred("mesh.leave", Role::kAdmin,
               [this](const json&, const Caller& c, const rpc::Reply& reply) {
                 enrolment_->leave(c, reply);
               });
  add_deferred(
      "show.mesh", Role::kViewer,
      [this](const json&, const Caller&, const rpc::Reply& reply) { enrolment_->show(reply); });
}

}  // namespace vigil::mgmt

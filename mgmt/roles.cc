#include "mgmt/roles.h"

#include "common/privileges.h"

namespace vigil::mgmt {

Caller identify(uid_t uid, const config::Config& running) {
  Caller c{.uid = uid, .user = user_name(uid)};
  if (uid == 0) {
    c.role = config::Role::kAdmin;
    return c;
  }
  for (const auto& u : running.system.users) {
    if (u.name == c.user) {
      c.role = u.role;
    }
  }
  return c;
}

bool allowed(const std::optional<config::Role>& have, config::Role need) {
  // Roles are declared most to least powerful.
  return have.has_value() && static_cast<int>(*have) <= static_cast<int>(need);
}

std::string role_name(const std::optional<config::Role>& role) {
  return role ? std::string(config::kRoleNames[static_cast<size_t>(*role)]) : "none";
}

}  // namespace vigil::mgmt

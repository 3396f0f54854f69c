// Who may do what. The caller's Unix user (SO_PEERCRED on the control socket) is looked up
// in system.users of the running config. root is always admin: it owns the box anyway, and
// it must never be locked out by a config mistake.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "config/config.h"

namespace vigil::mgmt {

struct Caller {
  uid_t uid = 0;
  std::string user;  // name, or "uid:<n>" when the uid has no name
  std::optional<config::Role> role;
};

Caller identify(uid_t uid, const config::Config& running);

// admin > operator > viewer.
bool allowed(const std::optional<config::Role>& have, config::Role need);
std::string role_name(const std::optional<config::Role>& role);

}  // namespace vigil::mgmt

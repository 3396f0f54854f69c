#include "config/capacity_checks.h"

#include <string>

#include "config/capacities.h"

namespace vigil::config {
namespace {

Status at_most(size_t count, size_t limit, const std::string& what) {
  if (count <= limit) {
    return Ok{};
  }
  return fail(std::to_string(count) + " " + what + "; the classifier holds " +
              std::to_string(limit));
}

}  // namespace

Status check_acl_rule_count(size_t rules) {
  return at_most(rules, VIGIL_ACL_MAX_RULES, "ACL rules");
}

Status check_policer_count(size_t rate_limits, size_t syn_limits) {
  return at_most(rate_limits + syn_limits, VIGIL_MAX_POLICERS, "rate and SYN limits");
}

Status check_vip_count(size_t vips) {
  return at_most(vips, VIGIL_MAX_VIPS, "VIPs");
}

Status check_backend_count(size_t backends_in_all_vips) {
  return at_most(backends_in_all_vips, VIGIL_MAX_BACKENDS, "backends in all");
}

Status check_local_address_count(size_t addresses) {
  return at_most(addresses, VIGIL_MAX_LOCAL_ADDRESSES, "addresses of the box");
}

Status check_local_port_count(size_t ports) {
  return at_most(ports, VIGIL_MAX_LOCAL_PORTS, "service ports of the box");
}

}  // namespace vigil::config

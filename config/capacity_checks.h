// The one check of each capacity in config/capacities.h. The classifier's loader calls all of
// them before it writes a map; the schema's section checks call them to point at the offending
// field: filter (ACL rules, rate and SYN limits), l4 (VIPs, backends), system (the box's own
// addresses, once the interfaces are read). The service ports of the box are the product's
// (SSH, BGP, SNMP, Prometheus), never more than the limit, so only the loader counts them.
#pragma once

#include <cstddef>

#include "common/expected.h"

namespace vigil::config {

// Each fails with what is over and what fits: "300 ACL rules; the classifier holds 256".
Status check_acl_rule_count(size_t rules);
Status check_policer_count(size_t rate_limits, size_t syn_limits);
Status check_vip_count(size_t vips);
Status check_backend_count(size_t backends_in_all_vips);
Status check_local_address_count(size_t addresses);
Status check_local_port_count(size_t ports);

}  // namespace vigil::config

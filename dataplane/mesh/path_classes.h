// The config's application classes (policies) as the lcores match and choose with them
// (sdwan/paths/path_class.h): milliseconds and percentages to the probes' units, link names to
// their places among the mesh's WAN links.
#pragma once

#include <vector>

#include "config/config.h"
#include "dataplane/mesh/wan_links.h"
#include "sdwan/paths/path_class.h"

namespace vigil::dp {

std::vector<paths::PathClass> path_classes_for(const config::PoliciesConfig& policies,
                                               const std::vector<WanLink>& links);

}  // namespace vigil::dp

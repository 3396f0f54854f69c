// The real MeshKernelPath (mesh_kernel_path.h): the device the fast path made, brought up
// over rtnetlink, its routes in the kernel's main table under their own protocol.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "dataplane/kernel/mesh_kernel_path.h"

namespace vigil::dp {

Expected<std::unique_ptr<MeshKernelPath>> open_mesh_kernel_path(const std::string& name);

}  // namespace vigil::dp

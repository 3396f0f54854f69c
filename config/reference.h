// docs/config.md, generated from the schema so the reference cannot drift from what vigild
// accepts. tests/unit/config/reference_test.cc fails when the checked-in file differs.
#pragma once

#include <string>

namespace vigil::config {

std::string config_reference_markdown();

}  // namespace vigil::config

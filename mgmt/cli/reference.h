// docs/cli.md, generated from what the CLI itself is made of (the command table, the options,
// the output modifiers and the exit codes), so the page cannot describe a CLI that does not
// exist: build/mgmt/cli/vigil-cli-reference > docs/cli.md, checked by a unit test.
#pragma once

#include <string>

#include "mgmt/cli/command_table.h"

namespace vigil::mgmt::cli {

std::string cli_reference_markdown(const CommandTable& table);

}  // namespace vigil::mgmt::cli

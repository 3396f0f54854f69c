// Prints docs/cli.md: build/mgmt/cli/vigil-cli-reference > docs/cli.md
#include <iostream>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/reference.h"

int main() {
  std::cout << vigil::mgmt::cli::cli_reference_markdown(vigil::mgmt::cli::build_table());
  return 0;
}

// Long output on a terminal goes through a pager, as Junos's `---(more)---`: less, quitting
// at the end and leaving the text on the screen. `| no-more`, output that fits, or no terminal
// print it as it is.
#pragma once

#include <string>

namespace vigil::mgmt::cli {

// Whether `text` needs more lines than a terminal of `rows` shows under the prompt.
bool longer_than_screen(const std::string& text, int rows);

// Writes `text` to standard output, through less when standard output is a terminal, the text
// is longer than it and less is installed; plainly otherwise.
void print_paged(const std::string& text);

}  // namespace vigil::mgmt::cli

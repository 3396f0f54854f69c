// A command line into words, as the interactive CLI and the login-shell path split it.
#pragma once

#include <string>
#include <vector>

namespace vigil::mgmt::cli {

// Splits a command line on blanks; "double quotes" keep blanks inside one word.
std::vector<std::string> split_words(const std::string& line);

}  // namespace vigil::mgmt::cli

// Prints docs/config.md: build/config/vigil-config-reference > docs/config.md
#include <iostream>

#include "config/reference.h"

int main() {
  std::cout << vigil::config::config_reference_markdown();
  return 0;
}

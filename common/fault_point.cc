#include "common/fault_point.h"

#if VIGIL_FAULT_POINTS
#include <csignal>
#include <cstdlib>

#include "common/logging.h"

namespace vigil {

void fault_point(std::string_view name) {
  const char* crash_at = std::getenv("VIGIL_CRASH_AT");
  if (crash_at != nullptr && name == crash_at) {
    log::warn("dying at a fault point, as $VIGIL_CRASH_AT asks", {{"point", name}});
    std::raise(SIGKILL);
  }
}

}  // namespace vigil
#endif

// Named places where a crash-safety test may kill the process, as kill -9 would: a build
// configured with -Dfault_points=true dies at the point that $VIGIL_CRASH_AT names. Other
// builds compile the calls to nothing. See tests/system/test_commit_crash.py.
#pragma once

#include <string_view>

namespace vigil {

#if VIGIL_FAULT_POINTS
void fault_point(std::string_view name);
#else
inline void fault_point(std::string_view) {}
#endif

}  // namespace vigil

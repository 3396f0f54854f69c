// systemd readiness notification. Every call is a no-op when not started by systemd
// (NOTIFY_SOCKET unset), so daemons call them unconditionally.
#pragma once

#include <string_view>

namespace vigil::systemd {

void notify_ready(std::string_view status);
void notify_stopping();
void notify_status(std::string_view status);

}  // namespace vigil::systemd

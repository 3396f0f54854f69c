#include "common/sd_notify.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <string>

#include "common/logging.h"

namespace vigil::systemd {
namespace {

void send(const std::string& state) {
  const int r = sd_notify(0, state.c_str());
  if (r < 0) {
    log::warn("sd_notify failed", {{"state", state}, {"errno", -r}});
  }
}

}  // namespace

void notify_ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status) + "\nMAINPID=" + std::to_string(::getpid()));
}
void notify_stopping() {
  send("STOPPING=1");
}
void notify_status(std::string_view status) {
  send("STATUS=" + std::string(status));
}

}  // namespace vigil::systemd

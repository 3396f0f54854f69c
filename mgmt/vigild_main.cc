// vigild: the management daemon. It owns the configuration: candidates, commits (two-phase
// over the components), commit confirmed, rollback, history, the audit trail and the
// Prometheus endpoint. Supervision of the other processes is not built yet, and it says so.
#include <memory>

#include "common/daemon.h"
#include "mgmt/config_api.h"
#include "mgmt/vigild_service.h"

int main(int argc, char** argv) {
  vigil::mgmt::VigildSettings settings;
  vigil::DaemonSpec spec{
      .name = "vigild",
      .summary = "Vigil management daemon: config, commits, supervision, metrics.",
      .default_socket = "/run/vigil/vigild.sock",
      .not_implemented = "supervision of vigil-dp/vigil-l7/FRR (start them yourself) and SNMP",
      .validate_config = vigil::mgmt::validate_config_document,
      // A config document (up to 16 MiB of YAML) JSON-escaped in one request.
      .max_request_bytes = 64 << 20,
  };
  vigil::mgmt::add_vigild_options(spec, settings);
  std::unique_ptr<vigil::mgmt::VigildService> service;
  return vigil::daemon_main(spec, argc, argv, [&](vigil::Daemon& d) {
    service = std::make_unique<vigil::mgmt::VigildService>(settings, d);
    d.on_start([&](vigil::EventLoop& loop) { return service->start(loop); });
  });
}

// vigild: the management daemon. It owns the configuration: candidates, commits (two-phase
// over the components), commit confirmed, rollback, history, the audit trail and the
// Prometheus endpoint, and with --supervise it starts and restarts the other processes. What
// it does not do yet (SNMP AgentX, FRR control) it says in its log and `status`.
#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "common/daemon.h"
#include "config/document.h"
#include "mgmt/config_api.h"
#include "mgmt/vigild_service.h"

int main(int argc, char** argv) {
  // One malloc arena: vigild's worker threads parse and commit documents of up to 4 MiB
  // (hundreds of MB of YAML nodes); with an arena per thread each kept its own peak, and a
  // 4 MiB config held 840 MB instead of 570. A control plane loses nothing by sharing one.
  mallopt(M_ARENA_MAX, 1);
  vigil::mgmt::VigildSettings settings;
  vigil::DaemonSpec spec{
      .name = "vigild",
      .summary = "Vigil management daemon: config, commits, supervision, metrics.",
      .default_socket = "/run/vigil/vigild.sock",
      .not_implemented = "SNMP AgentX",
      .validate_config = vigil::config::validate_document,
      // A config document (up to kMaxYamlBytes, 4 MiB, of YAML) JSON-escaped in one request.
      .max_request_bytes = 16 << 20,
  };
  vigil::mgmt::add_vigild_options(spec, settings);
  // Not destroyed: see _Exit below.
  auto* service = static_cast<vigil::mgmt::VigildService*>(nullptr);
  const int rc = vigil::daemon_main(spec, argc, argv, [&](vigil::Daemon& d) {
    service = new vigil::mgmt::VigildService(settings, d);
    d.on_start([service](vigil::EventLoop& loop) { return service->start(loop); });
    d.on_stop([service] { service->stop(); });
    d.on_hangup([service] { service->on_hangup(); });
  });
  // Shutdown is complete here: components stopped, socket removed, every state file fsynced,
  // log lines written unbuffered. What remains is joining the metrics server's threads,
  // which civetweb does with a poll timeout of up to a second or two; skip it so SIGTERM
  // stops vigild at once.
  std::cout.flush();  // --help and --version print through std::cout; _Exit does not flush
  std::cerr.flush();
  std::_Exit(rc);
}

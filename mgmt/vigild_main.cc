// vigild: the management daemon. At this commit it validates its config against the schema
// (at start, on SIGHUP and through the `validate` method) and serves its control socket; the
// commit machinery, supervision and metrics endpoint are not built yet, and it says so.
#include "common/daemon.h"
#include "mgmt/config_api.h"

int main(int argc, char** argv) {
  return vigil::daemon_main(
      {
          .name = "vigild",
          .summary = "Vigil management daemon: config, commits, supervision, metrics.",
          .default_socket = "/run/vigil/vigild.sock",
          .not_implemented = "candidate/commit/rollback, supervision, Prometheus /metrics: "
                             "this build validates config and serves its control socket",
          .validate_config = vigil::mgmt::validate_config_document,
          // A config document (up to 16 MiB of YAML) JSON-escaped in one request.
          .max_request_bytes = 64 << 20,
      },
      argc, argv, [](vigil::Daemon& d) { vigil::mgmt::register_config_methods(d.dispatcher()); });
}

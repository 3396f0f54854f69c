// vigild: the management daemon. At this commit it is the process skeleton: it serves its
// control socket (status, version, metrics) and says, loudly, what it does not do yet.
#include "common/daemon.h"

int main(int argc, char** argv) {
  return vigil::daemon_main(
      {
          .name = "vigild",
          .summary = "Vigil management daemon: config, commits, supervision, metrics.",
          .default_socket = "/run/vigil/vigild.sock",
          .not_implemented = "config schema, commit/rollback, supervision, Prometheus /metrics: "
                             "this build only serves its control socket",
      },
      argc, argv);
}

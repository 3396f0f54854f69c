// vigil-dp: the fast path. At this commit it is the process skeleton only: it serves its
// control socket and says, loudly, that it forwards nothing yet.
#include "common/daemon.h"

int main(int argc, char** argv) {
  return vigil::daemon_main(
      {
          .name = "vigil-dp",
          .summary = "Vigil fast path: ports, XDP classifier, DPDK lcores, FIB, WireGuard.",
          .default_socket = "/run/vigil/dp.sock",
          .not_implemented = "packet forwarding (DPDK pipeline, XDP classifier, WireGuard): "
                             "this build only serves its control socket",
      },
      argc, argv);
}

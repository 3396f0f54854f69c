// vigil-l7: the HTTP reverse proxy worker pool. At this commit it is the process skeleton
// only: it serves its control socket and says, loudly, that it proxies nothing yet.
#include "common/daemon.h"
#include "config/document.h"

int main(int argc, char** argv) {
  return vigil::daemon_main(
      {
          .name = "vigil-l7",
          .summary = "Vigil L7 reverse proxy: listeners, HTTP/1.1, HTTP/2, TLS, upstreams.",
          .default_socket = "/run/vigil/l7.sock",
          .not_implemented = "HTTP proxying (listeners, TLS, upstreams): "
                             "this build only serves its control socket",
          .validate_config = vigil::config::validate_document,
      },
      argc, argv);
}

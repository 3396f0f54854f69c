// Listening sockets for vigil-l7: one per listener and worker, each bound with SO_REUSEPORT
// so the kernel spreads new connections over the workers (by a hash of the 4-tuple) and no
// worker hands a connection to another.
#pragma once

#include "common/expected.h"
#include "common/net/host_port.h"
#include "common/unique_fd.h"

namespace vigil::l7 {

// A non-blocking TCP socket listening on `address` with SO_REUSEPORT (IPv6 sockets take IPv6
// only: "[::]:80" beside "0.0.0.0:80" is two listeners). Errors name the address.
Expected<UniqueFd> listen_on(const net::HostPort& address, int backlog = 4096);

}  // namespace vigil::l7

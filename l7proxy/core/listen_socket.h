// Listening sockets for vigil-l7: one per listener and worker, each bound with SO_REUSEPORT
// so the kernel spreads new connections over the workers (by a hash of the 4-tuple) and no
// worker hands a connection to another.
#pragma once

#include "common/expected.h"
#include "common/net/host_port.h"
#include "common/unique_fd.h"

namespace vigil::l7 {

// A non-blocking TCP socket bound to `address` with SO_REUSEPORT (IPv6 sockets take IPv6
// only: "[::]:80" beside "0.0.0.0:80" is two listeners), not listening yet: a commit binds at
// prepare, so an address in use fails it with nothing changed, and listens at activate, so a
// commit that fails after its prepare leaves no socket that took connections and resets them,
// and a worker's new socket of a kept listener takes none before the worker runs (the kernel
// spreads connections only over the sockets listening). Errors name the address.
Expected<UniqueFd> bind_listener(const net::HostPort& address);
Status start_listening(int fd, const net::HostPort& address, int backlog = 4096);

}  // namespace vigil::l7

// Which user owns the other end of a TCP connection between two sockets of this host. A
// listener on 127.0.0.1 takes connections from any local user, and SO_PEERCRED answers only
// for UNIX sockets; the kernel's socket table does (NETLINK_SOCK_DIAG, an exact lookup of the
// peer's socket by its four-tuple: inet_diag's idiag_uid). vigil-dp's FPM listener uses it to
// take routes only from root or FRR's user.
#pragma once

#include <sys/types.h>

#include "common/expected.h"

namespace vigil::net {

// The uid of the socket at the other end of `connected_fd` (a TCP socket of either family,
// both ends on this host, in this network namespace). An error when the peer is not a local
// socket the kernel knows (it is elsewhere), or when no process holds it any more (closed:
// the kernel reports such a socket as uid 0, which would pass for root).
Expected<uid_t> tcp_peer_owner(int connected_fd);

}  // namespace vigil::net

#include "common/net/tcp_peer_owner.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/unique_fd.h"

namespace vigil::net {
namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// The peer's socket as inet_diag looks it up: its own address and port first (the request's
// "source"), ours second.
Expected<inet_diag_req_v2> request_for(int fd) {
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return fail(errno_text("getsockname"));
  }
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
    return fail(errno_text("getpeername"));
  }
  if (local.ss_family != peer.ss_family ||
      (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
    return fail("not a TCP connection over IP");
  }
  inet_diag_req_v2 req{};
  req.sdiag_family = static_cast<uint8_t>(local.ss_family);
  req.sdiag_protocol = IPPROTO_TCP;
  req.idiag_states = ~0u;
  req.id.idiag_cookie[0] = req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (local.ss_family == AF_INET) {
    const auto& l = reinterpret_cast<const sockaddr_in&>(local);
    const auto& p = reinterpret_cast<const sockaddr_in&>(peer);
    req.id.idiag_sport = p.sin_port;
    req.id.idiag_dport = l.sin_port;
    std::memcpy(req.id.idiag_src, &p.sin_addr, 4);
    std::memcpy(req.id.idiag_dst, &l.sin_addr, 4);
  } else {
    const auto& l = reinterpret_cast<const sockaddr_in6&>(local);
    const auto& p = reinterpret_cast<const sockaddr_in6&>(peer);
    req.id.idiag_sport = p.sin6_port;
    req.id.idiag_dport = l.sin6_port;
    std::memcpy(req.id.idiag_src, &p.sin6_addr, 16);
    std::memcpy(req.id.idiag_dst, &l.sin6_addr, 16);
  }
  return req;
}

}  // namespace

Expected<uid_t> tcp_peer_owner(int connected_fd) {
  auto req = request_for(connected_fd);
  if (!req) {
    return fail(req.error());
  }
  UniqueFd diag(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!diag.valid()) {
    return fail(errno_text("socket(NETLINK_SOCK_DIAG)"));
  }
  timeval timeout{.tv_sec = 1, .tv_usec = 0};  // the kernel answers at once; never hang on it
  (void)::setsockopt(diag.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;  // an exact lookup, not a dump
  message.header.nlmsg_seq = 1;
  message.body = *req;
  sockaddr_nl kernel{.nl_family = AF_NETLINK};
  if (::sendto(diag.get(), &message, sizeof(message), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) != static_cast<ssize_t>(sizeof(message))) {
    return fail(errno_text("sock_diag request"));
  }
  alignas(nlmsghdr) uint8_t reply[1024];
  const ssize_t n = ::recv(diag.get(), reply, sizeof(reply), 0);
  if (n < 0) {
    return fail(errno_text("sock_diag reply"));
  }
  const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
  if (static_cast<size_t>(n) < sizeof(nlmsghdr) || header->nlmsg_len > static_cast<size_t>(n)) {
    return fail("sock_diag: a short reply");
  }
  if (header->nlmsg_type == NLMSG_ERROR) {
    if (header->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
      return fail("sock_diag: a short error");
    }
    const auto* error = reinterpret_cast<const nlmsgerr*>(reply + NLMSG_HDRLEN);
    return fail(std::string("sock_diag: the peer's socket: ") + std::strerror(-error->error));
  }
  if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      header->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    return fail("sock_diag: an unexpected reply of type " + std::to_string(header->nlmsg_type));
  }
  const auto* found = reinterpret_cast<const inet_diag_msg*>(reply + NLMSG_HDRLEN);
  if (found->idiag_inode == 0) {
    // No process holds it any more: closed (an orphan, or a time-wait socket, which the
    // kernel reports as uid 0). Whoever opened it cannot be told: refused.
    return fail("the peer's socket is closed; its owner is not known");
  }
  return static_cast<uid_t>(found->idiag_uid);
}

}  // namespace vigil::net

#include "dataplane/kernel/netlink_socket.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

// The netlink macros (NLMSG_*, RTA_*) are C with C casts; the project's C++ warnings about
// them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

#include <linux/rtnetlink.h>

namespace vigil::dp {

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags, const void* fixed, size_t fixed_len)
    : bytes_(NLMSG_SPACE(fixed_len)) {
  nlmsghdr* h = header();
  h->nlmsg_len = static_cast<uint32_t>(bytes_.size());
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  std::memcpy(NLMSG_DATA(h), fixed, fixed_len);
}

void NetlinkMessage::add_attr(uint16_t type, const void* data, size_t len) {
  const size_t at = NLMSG_ALIGN(bytes_.size());
  bytes_.resize(at + RTA_SPACE(len));
  auto* rta = reinterpret_cast<rtattr*>(bytes_.data() + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  header()->nlmsg_len = static_cast<uint32_t>(bytes_.size());
}

Expected<NetlinkSocket> NetlinkSocket::open(int protocol) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (fd.get() < 0) {
    return fail(std::string("netlink socket: ") + std::strerror(errno));
  }
  timeval timeout{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_nl local{.nl_family = AF_NETLINK};
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return fail(std::string("netlink bind: ") + std::strerror(errno));
  }
  return NetlinkSocket(std::move(fd));
}

bool NetlinkSocket::strict_dumps() {
  const int on = 1;
  return setsockopt(fd_.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) == 0;
}

void NetlinkSocket::drain() {
  uint8_t buf[8192];
  while (recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

Status NetlinkSocket::send(NetlinkMessage& message) {
  message.header()->nlmsg_seq = seq_++;
  if (::send(fd_.get(), message.bytes().data(), message.bytes().size(), 0) < 0) {
    return fail(std::string("netlink send: ") + std::strerror(errno));
  }
  return Ok{};
}

Status NetlinkSocket::send_only(NetlinkMessage& message) {
  return send(message);
}

Status NetlinkSocket::request(NetlinkMessage& message, int tolerated) {
  message.header()->nlmsg_flags |= NLM_F_ACK;
  return exchange(
      message, [](const nlmsghdr*) {}, tolerated);
}

Status NetlinkSocket::dump(NetlinkMessage& message,
                           const std::function<void(const nlmsghdr*)>& each) {
  return exchange(message, each, 0);
}

Status NetlinkSocket::exchange(NetlinkMessage& message,
                               const std::function<void(const nlmsghdr*)>& each, int tolerated) {
  drain();  // answers to earlier send_only() requests
  if (Status ok = send(message); !ok) {
    return ok;
  }
  const uint32_t seq = message.header()->nlmsg_seq;
  const bool is_dump = (message.header()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  std::vector<uint8_t> buf(32768);
  for (;;) {
    const ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      return fail(std::string("netlink: no answer: ") + std::strerror(errno));
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) {
        continue;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        return Ok{};
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0 || (tolerated != 0 && -e->error == tolerated)) {
          return Ok{};  // the acknowledgement of a request
        }
        return fail(std::strerror(-e->error));
      }
      each(h);
      if (!is_dump) {
        return Ok{};
      }
    }
  }
}

}  // namespace vigil::dp

#include "dataplane/kernel/kernel_neighbours.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

// The netlink macros (NLMSG_*, RTA_*) are C with C casts; the project's C++ warnings about
// them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

namespace vigil::dp {
namespace {

constexpr uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

void add_attr(std::vector<uint8_t>& msg, uint16_t type, const void* data, size_t len) {
  const size_t at = NLMSG_ALIGN(msg.size());
  msg.resize(at + RTA_SPACE(len));
  auto* rta = reinterpret_cast<rtattr*>(msg.data() + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_len = static_cast<uint32_t>(msg.size());
}

}  // namespace

Expected<KernelNeighbours> KernelNeighbours::open() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd.get() < 0) {
    return fail(std::string("netlink socket: ") + std::strerror(errno));
  }
  // A dump that does not answer within a second is abandoned, never waited on forever.
  timeval timeout{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_nl local{.nl_family = AF_NETLINK};
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return fail(std::string("netlink bind: ") + std::strerror(errno));
  }
  return KernelNeighbours(std::move(fd));
}

void KernelNeighbours::drain() {
  uint8_t buf[8192];
  while (recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

Status KernelNeighbours::resolve(int ifindex, const config::IpAddress& address) {
  std::vector<uint8_t> msg(NLMSG_SPACE(sizeof(ndmsg)));
  auto* h = reinterpret_cast<nlmsghdr*>(msg.data());
  h->nlmsg_type = RTM_NEWNEIGH;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE;
  h->nlmsg_seq = seq_++;
  auto* nd = static_cast<ndmsg*>(NLMSG_DATA(h));
  nd->ndm_family = address.family == 4 ? AF_INET : AF_INET6;
  nd->ndm_ifindex = ifindex;
  nd->ndm_state = NUD_NONE;
  nd->ndm_flags = NTF_USE;  // "use" the entry: the kernel starts or refreshes resolution
  add_attr(msg, NDA_DST, address.bytes.data(), address.family == 4 ? 4 : 16);
  if (send(fd_.get(), msg.data(), msg.size(), 0) < 0) {
    return fail(std::string("netlink send: ") + std::strerror(errno));
  }
  return Ok{};
}

Expected<std::vector<KernelNeighbour>> KernelNeighbours::dump() {
  drain();  // answers to earlier resolve() requests
  struct {
    nlmsghdr h;
    ndmsg nd;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  req.h.nlmsg_type = RTM_GETNEIGH;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = seq_++;
  req.nd.ndm_family = AF_UNSPEC;
  if (send(fd_.get(), &req, req.h.nlmsg_len, 0) < 0) {
    return fail(std::string("netlink send: ") + std::strerror(errno));
  }
  std::vector<KernelNeighbour> out;
  std::vector<uint8_t> buf(32768);
  for (;;) {
    const ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      return fail(std::string("netlink dump: ") + std::strerror(errno));
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != req.h.nlmsg_seq) {
        continue;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        return out;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return fail(std::string("neighbour dump: ") + std::strerror(-e->error));
      }
      if (h->nlmsg_type != RTM_NEWNEIGH) {
        continue;
      }
      const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
      if ((nd->ndm_state & kUsable) == 0 ||
          (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)) {
        continue;
      }
      KernelNeighbour k{.ifindex = nd->ndm_ifindex};
      k.address.family = nd->ndm_family == AF_INET ? 4 : 6;
      bool have_dst = false, have_mac = false;
      int attr_len = static_cast<int>(NLMSG_PAYLOAD(h, sizeof(ndmsg)));
      for (auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<uint8_t*>(NLMSG_DATA(h)) +
                                               NLMSG_ALIGN(sizeof(ndmsg)));
           RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
        const size_t len = RTA_PAYLOAD(a);
        if (a->rta_type == NDA_DST && len == (k.address.family == 4 ? 4u : 16u)) {
          std::memcpy(k.address.bytes.data(), RTA_DATA(a), len);
          have_dst = true;
        } else if (a->rta_type == NDA_LLADDR && len == 6) {
          std::memcpy(k.mac.data(), RTA_DATA(a), 6);
          have_mac = true;
        }
      }
      if (have_dst && have_mac) {
        out.push_back(k);
      }
    }
  }
}

}  // namespace vigil::dp

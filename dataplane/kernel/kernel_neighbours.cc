#include "dataplane/kernel/kernel_neighbours.h"

#include <linux/neighbour.h>
#include <sys/socket.h>

#include <cstring>

// The netlink macros (NLMSG_*, RTA_*) are C with C casts; the project's C++ warnings about
// them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

#include <linux/rtnetlink.h>

namespace vigil::dp {
namespace {

constexpr uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

}  // namespace

Expected<KernelNeighbours> KernelNeighbours::open() {
  auto socket = NetlinkSocket::open();
  if (!socket) {
    return fail(socket.error());
  }
  return KernelNeighbours(std::move(*socket));
}

Status KernelNeighbours::resolve(int ifindex, const net::IpAddress& address) {
  ndmsg nd{};
  nd.ndm_family = address.family == 4 ? AF_INET : AF_INET6;
  nd.ndm_ifindex = ifindex;
  nd.ndm_state = NUD_NONE;
  nd.ndm_flags = NTF_USE;  // "use" the entry: the kernel starts or refreshes resolution
  NetlinkMessage msg(RTM_NEWNEIGH, NLM_F_CREATE, &nd, sizeof(nd));
  msg.add_attr(NDA_DST, address.bytes.data(), address.family == 4 ? 4 : 16);
  return socket_.send_only(msg);
}

Expected<std::vector<KernelNeighbour>> KernelNeighbours::dump() {
  ndmsg request{};
  request.ndm_family = AF_UNSPEC;
  NetlinkMessage msg(RTM_GETNEIGH, NLM_F_DUMP, &request, sizeof(request));
  std::vector<KernelNeighbour> out;
  Status ok = socket_.dump(msg, [&out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWNEIGH) {
      return;
    }
    const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
    if ((nd->ndm_state & kUsable) == 0 ||
        (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)) {
      return;
    }
    KernelNeighbour k{.ifindex = nd->ndm_ifindex};
    k.address.family = nd->ndm_family == AF_INET ? 4 : 6;
    bool have_dst = false, have_mac = false;
    int attr_len = static_cast<int>(NLMSG_PAYLOAD(h, sizeof(ndmsg)));
    for (auto* a = reinterpret_cast<const rtattr*>(static_cast<const uint8_t*>(NLMSG_DATA(h)) +
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
  });
  if (!ok) {
    return fail("neighbour dump: " + ok.error());
  }
  return out;
}

}  // namespace vigil::dp

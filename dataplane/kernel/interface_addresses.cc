#include "dataplane/kernel/interface_addresses.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

// The netlink macros (NLMSG_*, RTA_*) are C with C casts; the project's C++ warnings about
// them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

#include <linux/rtnetlink.h>

namespace vigil::dp {

Expected<InterfaceAddresses> InterfaceAddresses::open() {
  auto socket = NetlinkSocket::open();
  if (!socket) {
    return fail(socket.error());
  }
  return InterfaceAddresses(std::move(*socket));
}

Status InterfaceAddresses::set_up(int ifindex, uint32_t mtu, bool no_arp) {
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  const unsigned flags = no_arp ? unsigned{IFF_UP} | unsigned{IFF_NOARP} : unsigned{IFF_UP};
  info.ifi_flags = flags;
  info.ifi_change = flags;
  NetlinkMessage msg(RTM_NEWLINK, 0, &info, sizeof(info));
  msg.add_attr(IFLA_MTU, &mtu, sizeof(mtu));
  if (Status ok = socket_.request(msg); !ok) {
    return fail("cannot bring interface " + std::to_string(ifindex) + " up: " + ok.error());
  }
  return Ok{};
}

Status InterfaceAddresses::change(uint16_t type, int ifindex, const net::Prefix& prefix) {
  ifaddrmsg ifa{};
  ifa.ifa_family = prefix.address.family == 4 ? AF_INET : AF_INET6;
  ifa.ifa_prefixlen = static_cast<uint8_t>(prefix.length);
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  NetlinkMessage msg(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0, &ifa,
                     sizeof(ifa));
  const size_t len = prefix.address.family == 4 ? 4 : 16;
  msg.add_attr(IFA_LOCAL, prefix.address.bytes.data(), len);
  msg.add_attr(IFA_ADDRESS, prefix.address.bytes.data(), len);
  if (Status ok = socket_.request(msg); !ok) {
    return fail(std::string(type == RTM_NEWADDR ? "cannot add " : "cannot remove ") +
                prefix.to_string() + ": " + ok.error());
  }
  return Ok{};
}

Expected<std::vector<net::Prefix>> InterfaceAddresses::list(int ifindex) {
  ifaddrmsg request{};
  request.ifa_family = AF_UNSPEC;
  NetlinkMessage msg(RTM_GETADDR, NLM_F_DUMP, &request, sizeof(request));
  std::vector<net::Prefix> out;
  Status ok = socket_.dump(msg, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) {
      return;
    }
    const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (static_cast<int>(ifa->ifa_index) != ifindex ||
        (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)) {
      return;
    }
    net::Prefix p{.length = ifa->ifa_prefixlen};
    p.address.family = ifa->ifa_family == AF_INET ? 4 : 6;
    const size_t want = p.address.family == 4 ? 4 : 16;
    int attr_len = static_cast<int>(IFA_PAYLOAD(h));
    bool found = false;
    for (auto* a = IFA_RTA(ifa); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
      // IFA_LOCAL is the address on point-to-point links; elsewhere both are the same.
      if ((a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !found)) &&
          RTA_PAYLOAD(a) == want) {
        std::memcpy(p.address.bytes.data(), RTA_DATA(a), want);
        found = true;
      }
    }
    if (found) {
      out.push_back(p);
    }
  });
  if (!ok) {
    return fail("address dump: " + ok.error());
  }
  return out;
}

Status InterfaceAddresses::sync(int ifindex, const std::vector<net::Prefix>& wanted) {
  auto present = list(ifindex);
  if (!present) {
    return fail(present.error());
  }
  for (const auto& p : *present) {
    const bool link_local =
        p.address.family == 6 && p.address.bytes[0] == 0xfe && (p.address.bytes[1] & 0xc0) == 0x80;
    if (!link_local && std::find(wanted.begin(), wanted.end(), p) == wanted.end()) {
      if (Status ok = change(RTM_DELADDR, ifindex, p); !ok) {
        return ok;
      }
    }
  }
  for (const auto& p : wanted) {
    if (std::find(present->begin(), present->end(), p) == present->end()) {
      if (Status ok = change(RTM_NEWADDR, ifindex, p); !ok) {
        return ok;
      }
    }
  }
  return Ok{};
}

}  // namespace vigil::dp

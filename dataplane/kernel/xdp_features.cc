#include "dataplane/kernel/xdp_features.h"

#include <cstring>
#include <string>

// The netlink macros (NLMSG_*, RTA_*) are C with C casts; the project's C++ warnings about
// them are off in this file alone.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

#include <linux/genetlink.h>
#include <linux/rtnetlink.h>

namespace vigil::dp {
namespace {

// <linux/netdev.h> (not in Debian 12's kernel headers): the family, its command and the
// attributes of a device.
constexpr const char* kNetdevFamily = "netdev";
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;

// Calls `each(type, data, len)` for every attribute after the generic netlink header.
template <typename Each>
void for_each_attr(const nlmsghdr* h, Each each) {
  const auto* start = reinterpret_cast<const uint8_t*>(h) + NLMSG_HDRLEN + GENL_HDRLEN;
  int left = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_HDRLEN + GENL_HDRLEN);
  for (auto* a = reinterpret_cast<const rtattr*>(start); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    each(static_cast<uint16_t>(a->rta_type & NLA_TYPE_MASK), RTA_DATA(a), RTA_PAYLOAD(a));
  }
}

}  // namespace

Expected<XdpFeatures> XdpFeatures::open() {
  auto socket = NetlinkSocket::open(NETLINK_GENERIC);
  if (!socket) {
    return fail(socket.error());
  }
  const genlmsghdr ask{.cmd = CTRL_CMD_GETFAMILY, .version = 1, .reserved = 0};
  NetlinkMessage m(GENL_ID_CTRL, NLM_F_REQUEST, &ask, sizeof(ask));
  m.add_attr(CTRL_ATTR_FAMILY_NAME, kNetdevFamily, std::strlen(kNetdevFamily) + 1);
  uint16_t family = 0;
  Status ok = socket->dump(m, [&](const nlmsghdr* h) {
    for_each_attr(h, [&](uint16_t type, const void* data, size_t len) {
      if (type == CTRL_ATTR_FAMILY_ID && len >= sizeof(family)) {
        std::memcpy(&family, data, sizeof(family));
      }
    });
  });
  if (!ok || family == 0) {
    return fail("the kernel has no \"netdev\" generic netlink family (Linux 6.3 or later): " +
                (ok ? std::string("no family id") : ok.error()));
  }
  return XdpFeatures(std::move(*socket), family);
}

Expected<uint64_t> XdpFeatures::of(uint32_t ifindex) {
  const genlmsghdr ask{.cmd = kNetdevCmdDevGet, .version = 1, .reserved = 0};
  NetlinkMessage m(family_, NLM_F_REQUEST, &ask, sizeof(ask));
  m.add_attr(kNetdevAttrIfindex, &ifindex, sizeof(ifindex));
  std::optional<uint64_t> features;
  Status ok = socket_.dump(m, [&](const nlmsghdr* h) {
    for_each_attr(h, [&](uint16_t type, const void* data, size_t len) {
      if (type == kNetdevAttrXdpFeatures && len >= sizeof(uint64_t)) {
        uint64_t v;
        std::memcpy(&v, data, sizeof(v));
        features = v;
      }
    });
  });
  if (!ok) {
    return fail("XDP features of interface " + std::to_string(ifindex) + ": " + ok.error());
  }
  if (!features) {
    return fail("XDP features of interface " + std::to_string(ifindex) + ": not in the answer");
  }
  return *features;
}

}  // namespace vigil::dp

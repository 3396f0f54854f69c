// A netlink socket (rtnetlink unless asked otherwise) with the three exchanges vigil-dp needs: a
// request the kernel acknowledges (or refuses with an errno), a request nobody waits for, and a
// dump read to its end. Control thread only; answers wait at most a second.
#pragma once

#include <linux/netlink.h>

#include <functional>
#include <vector>

#include "common/expected.h"
#include "common/unique_fd.h"

namespace vigil::dp {

// A netlink message under construction: a header, a fixed part, then attributes.
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags, const void* fixed, size_t fixed_len);
  void add_attr(uint16_t type, const void* data, size_t len);
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(bytes_.data()); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class NetlinkSocket {
 public:
  // NETLINK_ROUTE, or another family such as NETLINK_GENERIC.
  static Expected<NetlinkSocket> open(int protocol = NETLINK_ROUTE);

  // Sends with NLM_F_ACK and waits for the answer; the kernel's errno becomes the error,
  // except `tolerated` (say ESRCH when removing what may be gone already).
  Status request(NetlinkMessage& message, int tolerated = 0);
  // Sends and returns; a refusal arrives later and is discarded.
  Status send_only(NetlinkMessage& message);
  // Asks the kernel to filter dumps by the request's fields (NETLINK_GET_STRICT_CHK, Linux
  // 4.20): a dump of one protocol's routes then costs what they are, not the whole table.
  // False where the kernel does not: the caller filters what comes, as it must anyway.
  bool strict_dumps();
  // Sends a dump request and calls `each` for every answer message until the dump ends.
  Status dump(NetlinkMessage& message, const std::function<void(const nlmsghdr*)>& each);

 private:
  explicit NetlinkSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  Status send(NetlinkMessage& message);
  Status exchange(NetlinkMessage& message, const std::function<void(const nlmsghdr*)>& each,
                  int tolerated);
  void drain();
  UniqueFd fd_;
  uint32_t seq_ = 1;
};

}  // namespace vigil::dp
